using System.Text;

namespace MlxManager.Core.Platform.Service;

/// <summary>Writes a <see cref="ServiceDefinition"/> as a systemd user unit (<c>~/.config/systemd/user/mlx-manager.service</c>).</summary>
public static class SystemdUserUnit
{
    public static string Render(ServiceDefinition service)
    {
        ArgumentNullException.ThrowIfNull(service);
        var text = new StringBuilder()
            .Append("[Unit]\n")
            .Append("Description=MLX Manager (").Append(service.Label).Append(")\n")
            .Append("After=network-online.target\n\n")
            .Append("[Service]\n")
            .Append("Type=simple\n")
            .Append("ExecStart=").AppendJoin(' ', service.ProgramArguments.Select(w => Quote(w, command: true))).Append('\n')
            .Append("WorkingDirectory=").Append(Specifiers(service.WorkingDirectory)).Append('\n');
        foreach (var (name, value) in service.Environment)
        {
            text.Append("Environment=").Append(Quote($"{name}={value}", command: false)).Append('\n');
        }

        return text
            .Append("StandardOutput=append:").Append(Specifiers(service.StandardOutPath)).Append('\n')
            .Append("StandardError=append:").Append(Specifiers(service.StandardErrorPath)).Append('\n')
            .Append("Restart=always\n")
            .Append("RestartSec=5\n")
            // Stopping the manager must not stop the model servers it started (they keep running and are re-attached).
            .Append("KillMode=process\n\n")
            .Append("[Install]\n")
            .Append("WantedBy=default.target\n")
            .ToString();
    }

    /// <summary>One word for systemd's ExecStart= (<paramref name="command"/>) or Environment= parsing: double-quoted, with
    /// \ and " escaped and specifiers (%) doubled; in a command line variables ($) are doubled too, so all is literal.</summary>
    public static string Quote(string word, bool command)
    {
        var literal = Specifiers(word);
        if (command)
        {
            literal = literal.Replace("$", "$$", StringComparison.Ordinal);
        }

        return "\"" + literal.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }

    private static string Specifiers(string text) => text.Replace("%", "%%", StringComparison.Ordinal);
}
