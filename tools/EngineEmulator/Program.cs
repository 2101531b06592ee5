using MlxManager.EngineEmulator;
using MlxManager.EngineEmulator.Cli;
using MlxManager.EngineEmulator.Installation;
using MlxManager.EngineEmulator.Models;
using MlxManager.EngineEmulator.Server;

// Entry points:
//   install <folder> [--wrapper]          write the mlx_lm.server / mlx_vlm.server / mlx-openai-server launchers
//   --flavour <name> <engine arguments>   run as that engine (what the launchers do)
//   --handler-process                     internal: mlx-openai-server's model process
if (args.Length >= 1 && args[0] == "install") return Install(args[1..]);
if (args.Length >= 1 && args[0] == HandlerProcess.Argument) return HandlerProcess.Run(EmulatorSettings.FromEnvironment());

Flavour? flavour = null;
var engineArgs = args;
if (args.Length >= 2 && args[0] == "--flavour")
{
    flavour = FlavourNames.Parse(args[1]);
    engineArgs = args[2..];
}
else if (Environment.GetEnvironmentVariable("EMULATOR_FLAVOUR") is { Length: > 0 } fromEnvironment)
    flavour = FlavourNames.Parse(fromEnvironment);
if (flavour is not { } chosen)
{
    Console.Error.WriteLine("usage: MlxManager.EngineEmulator.dll install <folder> [--wrapper]");
    Console.Error.WriteLine("       MlxManager.EngineEmulator.dll --flavour mlx_lm.server|mlx_vlm.server|mlx-openai-server [engine arguments]");
    return 2;
}

EmulatorSettings settings;
try
{
    settings = EmulatorSettings.FromEnvironment();
}
catch (FormatException e)
{
    Console.Error.WriteLine($"[emulator] {e.Message}");
    return 2;
}

WatchFaultsAndParent(settings);

// `import mlx` and friends come before argparse in the real engines, so even --help waits for them.
if (settings.ImportTime > TimeSpan.Zero) await Task.Delay(settings.ImportTime);

var (options, outcome) = EngineCommandLines.Parse(chosen, engineArgs);
Console.Out.Write(outcome.StandardOutput);
Console.Error.Write(outcome.StandardError);
if (options is null) return outcome.ExitCode;

var time = TimeProvider.System;
string? logFile = null;
if (chosen == Flavour.OpenAiServer && !options.NoLogFile)
{
    logFile = Path.GetFullPath(options.LogFile ?? Path.Combine("logs", "app.log"));
    Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
}
var console = new EngineConsole(time, options.LogLevel, logFile);
var cache = HfCache.FromEnvironment();
var offline = Environment.GetEnvironmentVariable("HF_HUB_OFFLINE") is "1" or "true" or "TRUE" or "yes";
var loader = new ModelLoader(cache, settings.LoadBytesPerSecond, offline);
IModelHost host = chosen == Flavour.OpenAiServer && settings.OpenAiHandlerProcess
    ? new HandlerProcessHost(LauncherInstaller.DotnetHost(), typeof(Program).Assembly.Location)
    : new LocalModelHost(loader);
var chatTemplate = options.ChatTemplate
    ?? (options.ChatTemplateFile is { } templateFile && File.Exists(templateFile) ? File.ReadAllText(templateFile) : null);

using var runtime = new EngineRuntime(options, settings, host, console, time, cache, chatTemplate);
return chosen switch
{
    Flavour.MlxLm => await new MlxLmEngine(runtime).RunAsync(),
    Flavour.MlxVlm => await new MlxVlmEngine(runtime).RunAsync(),
    _ => await new OpenAiServerEngine(runtime).RunAsync(),
};

static int Install(string[] rest)
{
    var wrapper = rest.Contains("--wrapper");
    var folders = rest.Where(a => a != "--wrapper").ToList();
    if (folders.Count != 1)
    {
        Console.Error.WriteLine("usage: MlxManager.EngineEmulator.dll install <folder> [--wrapper]");
        return 2;
    }
    foreach (var path in LauncherInstaller.Install(folders[0], wrapper ? LauncherKind.Wrapper : LauncherKind.Exec))
        Console.Out.WriteLine(path);
    return 0;
}

// exit-after:N ends the process after N seconds; a wrapper launcher's PID is watched so the emulator never
// outlives the shell that started it.
static void WatchFaultsAndParent(EmulatorSettings settings)
{
    if (settings.Fault.ExitAfter is { } after)
    {
        _ = Task.Run(async () =>
        {
            await Task.Delay(after);
            Console.Error.WriteLine($"[emulator] EMULATOR_FAULT=exit-after:{after.TotalSeconds}: exiting with status 1");
            Environment.Exit(1);
        });
    }
    if (settings.ParentPid is { } parent)
    {
        _ = Task.Run(async () =>
        {
            while (Directory.Exists($"/proc/{parent}") || ProcessAlive(parent)) await Task.Delay(500);
            Environment.Exit(143);
        });
    }
}

static bool ProcessAlive(int pid)
{
    if (OperatingSystem.IsLinux()) return Directory.Exists($"/proc/{pid}");
    try
    {
        using var process = System.Diagnostics.Process.GetProcessById(pid);
        return !process.HasExited;
    }
    catch (ArgumentException)
    {
        return false;
    }
}
