#!/bin/sh
# Builds the engine emulator and installs mlx_lm.server, mlx_vlm.server and mlx-openai-server launchers.
#   tools/EngineEmulator/install.sh <folder> [--wrapper]
# Then put <folder> on PATH, or point the manager's engine paths at <folder>/<name>.
set -eu
if [ $# -lt 1 ]; then
  echo "usage: $0 <folder> [--wrapper]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
dotnet build "$here/MlxManager.EngineEmulator.csproj" -c Release --nologo -v quiet
dotnet "$here/bin/Release/net10.0/MlxManager.EngineEmulator.dll" install "$@"
