namespace MlxManager.Core.Platform.Service;

/// <summary>Linux: <c>~/.config/systemd/user/mlx-manager.service</c> and <c>systemctl --user</c> when there is one.</summary>
internal sealed class SystemdUser(ServiceDefinition service, ServiceCommand command)
{
    public string UnitPath => Path.Combine(command.Home, ".config", "systemd", "user", ServiceDefinition.SystemdUnitName);

    /// <summary>The systemctl argument lists of each step, in order.</summary>
    public static IReadOnlyList<string[]> Steps(string verb) => verb switch
    {
        "install" => [["--user", "daemon-reload"], ["--user", "enable", "--now", ServiceDefinition.SystemdUnitName]],
        "uninstall" => [["--user", "disable", "--now", ServiceDefinition.SystemdUnitName], ["--user", "daemon-reload"]],
        _ => [["--user", "status", "--no-pager", ServiceDefinition.SystemdUnitName]],
    };

    public async Task<int> RunAsync(string verb, CancellationToken cancellationToken)
    {
        var systemctl = command.Find("systemctl");
        if (verb == "install")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(service.StandardOutPath)!);
            ServiceCommand.WritePrivate(UnitPath, SystemdUserUnit.Render(service));
            await command.SayAsync($"Wrote {UnitPath}");
        }

        if (verb == "uninstall" && File.Exists(UnitPath) && systemctl is null)
        {
            File.Delete(UnitPath);
            await command.SayAsync($"Removed {UnitPath}.");
        }

        if (systemctl is null)
        {
            await command.ComplainAsync("systemctl was not found on PATH: nothing was started or stopped. Start the manager with your own init system, or run `systemctl --user "
                + string.Join(' ', Steps(verb)[^1].Skip(1)) + "` where systemd runs.");
            return verb == "status" ? 3 : 1;
        }

        var exit = 0;
        foreach (var step in Steps(verb))
        {
            exit = (await command.ToolAsync(systemctl, step, cancellationToken)).ExitCode;
            if (exit != 0 && verb != "uninstall")
            {
                break;
            }
        }

        if (verb == "uninstall" && File.Exists(UnitPath))
        {
            File.Delete(UnitPath);
            await command.SayAsync($"Removed {UnitPath}.");
        }

        if (verb == "install")
        {
            await command.SayAsync(exit == 0 ? $"Enabled and started {ServiceDefinition.SystemdUnitName}: MLX Manager runs now and at every login. Output: {service.StandardOutPath}"
                : "systemctl did not start the unit; see its message above.");
        }

        return exit == 0 ? 0 : verb == "status" ? 3 : 1;
    }
}
