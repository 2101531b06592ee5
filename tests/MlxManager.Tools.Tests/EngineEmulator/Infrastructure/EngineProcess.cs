using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MlxManager.EngineEmulator;
using MlxManager.EngineEmulator.Installation;

namespace MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

/// <summary>An emulated engine started as a real child process through an installed launcher, with its
/// stdout/stderr captured line by line and an HttpClient pointed at its port. Disposing kills the whole tree.</summary>
public sealed class EngineProcess : IDisposable
{
    readonly Process process;
    readonly ConcurrentQueue<string> stdout = new();
    readonly ConcurrentQueue<string> stderr = new();

    public int Port { get; }
    public HttpClient Http { get; }
    public int Pid => process.Id;
    public Process Process => process;

    EngineProcess(Process process, int port)
    {
        this.process = process;
        Port = port;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>Starts <paramref name="flavour"/> with <paramref name="args"/>; <c>--port</c> (and <c>--host 127.0.0.1</c>)
    /// are appended unless <paramref name="addPort"/> is false. Inherited EMULATOR_* variables are cleared first.</summary>
    public static EngineProcess Start(Flavour flavour, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null,
        bool addPort = true, LauncherKind launcher = LauncherKind.Exec, string? workingDirectory = null, bool launchSubcommand = true)
    {
        var port = FreePort();
        var start = new ProcessStartInfo(EngineLaunchers.Path(flavour, launcher))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        if (flavour == Flavour.OpenAiServer && launchSubcommand) start.ArgumentList.Add("launch");
        foreach (var arg in args) start.ArgumentList.Add(arg);
        if (addPort)
        {
            start.ArgumentList.Add("--port");
            start.ArgumentList.Add(port.ToString());
            start.ArgumentList.Add("--host");
            start.ArgumentList.Add("127.0.0.1");
        }
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("EMULATOR_", StringComparison.Ordinal) || k == "COLUMNS").ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            start.Environment[key] = value;

        var process = new Process { StartInfo = start };
        var engine = new EngineProcess(process, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) engine.stdout.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) engine.stderr.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return engine;
    }

    public string Stdout => string.Join('\n', stdout);
    public string Stderr => string.Join('\n', stderr);
    public string Output => Stdout + "\n" + Stderr;

    public bool HasExited => process.HasExited;

    /// <summary>
    /// A port no other process is handed meanwhile: engines that load before they listen leave their port unbound for
    /// seconds, and a port the OS picks for "any free port" (port 0, from its ephemeral range) could then go to another
    /// test process's server, which would answer in the engine's place. So ports come from below the ephemeral range,
    /// one after another from a random start, each checked free; port 0 where that range is unknown.
    /// </summary>
    public static int FreePort()
    {
        var lowestEphemeral = LowestEphemeralPort();
        if (lowestEphemeral is not { } below || below < 12000)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        const int span = 10000;
        for (var attempt = 0; attempt < span; attempt++)
        {
            var port = below - span + (int)((uint)Interlocked.Increment(ref nextPort) % span);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: the next one.
            }
        }

        throw new InvalidOperationException($"No free port between {below - span} and {below}.");
    }

    static int nextPort = Random.Shared.Next(10000);

    static int? LowestEphemeralPort()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds, checking every 50 ms.</summary>
    /// <summary>True when a TCP connection to 127.0.0.1:<paramref name="port"/> is accepted (false when refused).</summary>
    public static async Task<bool> AcceptsConnectionAsync(int port)
    {
        using var client = new System.Net.Sockets.TcpClient();
        try
        {
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (condition()) return true;
            await Task.Delay(50);
        }
        return condition();
    }

    public async Task WaitForOutputAsync(string text, TimeSpan? timeout = null)
    {
        if (!await EventuallyAsync(() => Output.Contains(text, StringComparison.Ordinal), timeout ?? TimeSpan.FromSeconds(60)))
            throw new TimeoutException($"'{text}' never appeared in the engine's output:\n{Output}");
    }

    /// <summary>Waits until the port accepts HTTP (any status).</summary>
    public async Task WaitListeningAsync(TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)))
        {
            if (process.HasExited) throw new InvalidOperationException($"engine exited with {process.ExitCode}:\n{Output}");
            try
            {
                using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
                using var response = await probe.GetAsync($"http://127.0.0.1:{Port}/health");
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
            catch (TaskCanceledException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"engine never listened on {Port}:\n{Output}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>VmRSS of a process in bytes, from /proc.</summary>
    public static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    /// <summary>The process ids of the children of <paramref name="pid"/>: Linux lists each thread's children
    /// in <c>/proc/&lt;pid&gt;/task/&lt;tid&gt;/children</c>.</summary>
    public static IReadOnlyList<int> Children(int pid) =>
        Directory.EnumerateDirectories($"/proc/{pid}/task")
            .Select(task => Path.Combine(task, "children"))
            .Where(File.Exists)
            .SelectMany(file => File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse)
            .Distinct()
            .ToList();

    public void Dispose()
    {
        Http.Dispose();
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"engine {Port} already gone: {e.Message}");
        }
        process.Dispose();
    }
}
