namespace MlxManager.Core.Platform.Service;

/// <summary>macOS: <c>~/Library/LaunchAgents/&lt;label&gt;.plist</c> and the <c>gui/&lt;uid&gt;</c> domain.</summary>
internal sealed class LaunchAgent(ServiceDefinition service, ServiceCommand command)
{
    public string PlistPath => Path.Combine(command.Home, "Library", "LaunchAgents", service.Label + ".plist");

    public string Domain => $"gui/{ServiceCommand.GetEffectiveUserId()}";

    /// <summary>The launchctl argument lists of each step, in order.</summary>
    public IReadOnlyList<string[]> Steps(string verb) => verb switch
    {
        "install" => [["bootout", $"{Domain}/{service.Label}"], ["bootstrap", Domain, PlistPath]],
        "uninstall" => [["bootout", $"{Domain}/{service.Label}"]],
        _ => [["print", $"{Domain}/{service.Label}"]],
    };

    public async Task<int> RunAsync(string verb, CancellationToken cancellationToken)
    {
        switch (verb)
        {
            case "install":
                Directory.CreateDirectory(Path.GetDirectoryName(service.StandardOutPath)!);
                ServiceCommand.WritePrivate(PlistPath, LaunchAgentPlist.Render(service));
                await command.SayAsync($"Wrote {PlistPath}");
                var steps = Steps(verb);
                await command.ToolAsync("launchctl", steps[0], cancellationToken); // not loaded yet: fails, which is fine
                var loaded = await command.ToolAsync("launchctl", steps[1], cancellationToken);
                await command.SayAsync(loaded.ExitCode == 0
                    ? $"Loaded {service.Label}: MLX Manager runs now and at every login. Output: {service.StandardOutPath}"
                    : $"launchctl could not load {PlistPath}; the file is written, see the message above.");
                return loaded.ExitCode == 0 ? 0 : 1;
            case "uninstall":
                await command.ToolAsync("launchctl", Steps(verb)[0], cancellationToken);
                if (File.Exists(PlistPath))
                {
                    File.Delete(PlistPath);
                    await command.SayAsync($"Removed {PlistPath}. Model servers it started keep running until stopped.");
                }
                else
                {
                    await command.SayAsync($"No {PlistPath}: nothing to remove.");
                }

                return 0;
            default:
                await command.SayAsync(File.Exists(PlistPath) ? $"Installed: {PlistPath}" : $"Not installed ({PlistPath} does not exist).");
                return (await command.ToolAsync("launchctl", Steps(verb)[0], cancellationToken)).ExitCode == 0 ? 0 : 3;
        }
    }
}
