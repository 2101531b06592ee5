using System.Diagnostics;

namespace MlxManager.Core.Tests.Servers.Infrastructure;

/// <summary>Finds emulated engine processes by scanning <c>/proc/*/cmdline</c>, and waits for conditions.</summary>
public static class EngineProcesses
{
    /// <summary>Process ids of live (not zombie) emulator processes whose command line mentions <paramref name="marker"/> (e.g. a port).</summary>
    public static IReadOnlyList<int> Find(string marker)
    {
        var found = new List<int>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var pid))
            {
                continue;
            }

            try
            {
                var command = File.ReadAllText(Path.Combine(folder, "cmdline")).Replace('\0', ' ');
                if (command.Contains("MlxManager.EngineEmulator.dll", StringComparison.Ordinal) && command.Contains(marker, StringComparison.Ordinal)
                    && !IsZombie(pid))
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        return found;
    }

    /// <summary>Every emulator process serving <paramref name="port"/> (its command line has <c>--port N</c>), plus their handler children.</summary>
    public static IReadOnlyList<int> ServingPort(int port) => Find($"--port {port}");

    public static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is 'Z' or 'X';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true; // gone
        }
    }

    public static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && !IsZombie(pid);

    /// <summary>Polls <paramref name="condition"/> every 25 ms until it holds; fails the test after <paramref name="timeout"/>.</summary>
    public static Task<TimeSpan> WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string because) =>
        Eventually.WaitUntilAsync(condition, timeout, because);
}
