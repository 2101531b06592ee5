using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MlxManager.EngineEmulator.Generation;
using MlxManager.EngineEmulator.Python;

namespace MlxManager.EngineEmulator.Models;

/// <summary>mlx-openai-server's handler subprocess: the model's weights are mapped, and its generation steps
/// spun, in a child process (the emulator dll started again with <c>--handler-process</c>), as the real server
/// spawns one Python process per model. The parent talks to it over the child's stdin/stdout, one line per
/// command: <c>load</c>, <c>spin</c>; closing stdin ends the child.</summary>
public sealed class HandlerProcessHost(string dotnet, string emulatorDll) : IModelHost, IComputeDevice
{
    readonly Lock gate = new();
    Process? child;

    public IComputeDevice Device => this;

    /// <summary>The child's process id once started (for tests and logs).</summary>
    public int? ChildProcessId => child?.Id;

    Process Child()
    {
        if (child is { HasExited: false }) return child;
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(emulatorDll);
        start.ArgumentList.Add(HandlerProcess.Argument);
        child = Process.Start(start) ?? throw new InvalidOperationException("could not start the handler process");
        return child;
    }

    string Call(string command)
    {
        lock (gate)
        {
            var process = Child();
            process.StandardInput.WriteLine(command);
            process.StandardInput.Flush();
            return process.StandardOutput.ReadLine()
                ?? throw new IOException($"handler process {process.Id} ended (exit status {(process.WaitForExit(1000) ? process.ExitCode : -1)})");
        }
    }

    public LoadedModel Load(string model, LoaderKind kind, string? chatTemplate, CancellationToken cancellationToken)
    {
        var request = new JsonObject { ["model"] = model, ["kind"] = kind.ToString(), ["chat_template"] = chatTemplate };
        var reply = Call("load\t" + request.ToJsonString());
        var (verb, payload) = Split(reply);
        var json = JsonNode.Parse(payload) as JsonObject ?? [];
        if (verb == "failed")
        {
            var frames = (json["frames"] as JsonArray ?? []).OfType<JsonObject>()
                .Select(f => new PythonFrame(f["file"]!.GetValue<string>(), f["line"]!.GetValue<int>(), f["function"]!.GetValue<string>(), f["source"]!.GetValue<string>()))
                .ToList();
            throw new PythonException(json["type"]!.GetValue<string>(), json["message"]!.GetValue<string>(), frames);
        }
        var path = json["path"]!.GetValue<string>();
        return new LoadedModel(model, ModelFolder.Read(path, chatTemplate), null, json["weight_bytes"]!.GetValue<long>());
    }

    public void Spin(TimeSpan duration) =>
        Call("spin\t" + duration.Ticks.ToString(CultureInfo.InvariantCulture));

    static (string Verb, string Payload) Split(string line)
    {
        var tab = line.IndexOf('\t');
        return tab < 0 ? (line, "") : (line[..tab], line[(tab + 1)..]);
    }

    public void Dispose()
    {
        if (child is null) return;
        try
        {
            child.StandardInput.Close();
            if (!child.WaitForExit(2000)) child.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"[emulator] handler process already gone: {e.Message}");
        }
        child.Dispose();
    }
}

/// <summary>The child side of <see cref="HandlerProcessHost"/>.</summary>
public static class HandlerProcess
{
    public const string Argument = "--handler-process";

    public static int Run(EmulatorSettings settings)
    {
        var loader = new ModelLoader(HfCache.FromEnvironment(), settings.LoadBytesPerSecond, Environment.GetEnvironmentVariable("HF_HUB_OFFLINE") is "1" or "true");
        LoadedModel? loaded = null;
        string? line;
        while ((line = Console.In.ReadLine()) is not null)
        {
            var tab = line.IndexOf('\t');
            var verb = tab < 0 ? line : line[..tab];
            var payload = tab < 0 ? "" : line[(tab + 1)..];
            switch (verb)
            {
                case "spin":
                    LocalComputeDevice.Instance.Spin(TimeSpan.FromTicks(long.Parse(payload, CultureInfo.InvariantCulture)));
                    Console.Out.WriteLine("ok");
                    break;
                case "load":
                    var request = JsonNode.Parse(payload)!.AsObject();
                    var model = request["model"]!.GetValue<string>();
                    try
                    {
                        loaded?.Dispose();
                        loaded = loader.Load(model, Enum.Parse<LoaderKind>(request["kind"]!.GetValue<string>()), CancellationToken.None,
                            request["chat_template"]?.GetValue<string>());
                        Console.Error.WriteLine($"{TimeProvider.System.GetLocalNow().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} | INFO     | app.core.handler_process:_handler_process_main:306 | ✦ Handler process ready for model '{model}'");
                        Console.Out.WriteLine("loaded\t" + new JsonObject { ["path"] = loaded.Folder.Path, ["weight_bytes"] = loaded.WeightBytes }.ToJsonString());
                    }
                    catch (PythonException e)
                    {
                        var failure = new JsonObject
                        {
                            ["type"] = e.PythonType,
                            ["message"] = e.PythonMessage,
                            ["frames"] = new JsonArray(e.Frames.Select(f => (JsonNode)new JsonObject
                            {
                                ["file"] = f.File, ["line"] = f.Line, ["function"] = f.Function, ["source"] = f.Source,
                            }).ToArray()),
                        };
                        Console.Out.WriteLine("failed\t" + failure.ToJsonString());
                    }
                    break;
                default:
                    Console.Out.WriteLine("error\tunknown command");
                    break;
            }
            Console.Out.Flush();
        }
        loaded?.Dispose();
        return 0;
    }
}
