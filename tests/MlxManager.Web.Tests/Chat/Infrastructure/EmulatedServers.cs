using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Discovery;
using MlxManager.Core.Engines;
using MlxManager.Core.Profiles;
using MlxManager.EngineEmulator.Installation;
using MlxManager.ModelFixtures;

namespace MlxManager.Web.Tests.Chat.Infrastructure;

/// <summary>
/// The chat's <see cref="IChatServerDirectory"/> for tests, standing in for the server supervisor: it starts REAL
/// EngineEmulator processes through installed launchers (arguments from the real engine definitions, the HF cache
/// of fixture models passed in the engine's environment), detects each model's characteristics from its files,
/// and tracks states the way the supervisor does: starting → loading (listening) → ready (a one-token completion
/// returned) or failed (the process exited; the reason is its last error line).
/// </summary>
public sealed class EmulatedServers : IChatServerDirectory, IAsyncDisposable
{
    private static readonly Lazy<string> Launchers = new(InstallLaunchers);
    private readonly ConcurrentDictionary<int, Running> _servers = new();
    private readonly EngineRegistry _engines = EngineRegistry.Discover();
    private readonly Dictionary<string, string> _snapshots = new(StringComparer.Ordinal);
    private int _nextId;

    public EmulatedServers(IEnumerable<FixtureSpec>? fixtures = null)
    {
        CacheRoot = Directory.CreateTempSubdirectory("chat-hf-cache-").FullName;
        foreach (var spec in fixtures ?? FixtureCatalog.Small)
        {
            var written = HfCacheWriter.Write(CacheRoot, spec);
            _snapshots[spec.RepoId] = Path.Combine(written.Folder, "snapshots", written.Commit);
        }
    }

    public string CacheRoot { get; }

    /// <summary>Makes a fixture written into <see cref="CacheRoot"/> after construction startable.</summary>
    public void Register(FixtureSpec spec)
    {
        var folder = Path.Combine(CacheRoot, HfCacheWriter.FolderName(spec.RepoId));
        var commit = File.ReadAllText(Path.Combine(folder, "refs", "main")).Trim();
        _snapshots[spec.RepoId] = Path.Combine(folder, "snapshots", commit);
    }

    /// <summary>Profiles <see cref="StartProfileAsync"/> may start, by id (the chat page reads them from the database).</summary>
    public ConcurrentDictionary<int, (Profile Profile, Dictionary<string, string>? Environment)> Startable { get; } = new();

    /// <summary>A profile for <paramref name="spec"/> on a free loopback port.</summary>
    public static Profile ProfileFor(FixtureSpec spec, string engine, string? name = null, int id = 0) => new()
    {
        Id = id,
        Name = name ?? $"{engine} {spec.RepoId.Split('/')[1]}",
        ModelRef = spec.RepoId,
        Engine = engine,
        Host = "127.0.0.1",
        Port = FreePort(),
        MaxTokens = 4096,
        ReasoningParser = engine == MlxOpenAiServer.EngineKey ? "qwen3" : null,
        ToolCallParser = engine == MlxOpenAiServer.EngineKey ? "qwen3" : null,
    };

    /// <summary>Starts an engine for <paramref name="profile"/>; waits until it is ready unless told otherwise.</summary>
    public async Task<ChatServer> StartAsync(Profile profile, IReadOnlyDictionary<string, string>? environment = null, bool waitUntilReady = true,
        Func<ChatModelCapabilities, ChatModelCapabilities>? capabilities = null)
    {
        var engine = _engines.Get(profile.Engine);
        var snapshot = _snapshots[profile.ModelRef];
        var characteristics = await new ModelCharacteristicsDetector().DetectAsync(new FolderModelFileSource(snapshot, profile.ModelRef));
        var model = ChatModelCapabilities.FromCharacteristics(characteristics);
        model = capabilities?.Invoke(model) ?? model;
        var resolved = new ResolvedModel(profile.ModelRef, characteristics.Vision?.Value == true);

        var start = new ProcessStartInfo(Path.Combine(Launchers.Value, engine.ExecutableName))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = CacheRoot,
        };
        foreach (var argument in engine.BuildArguments(profile, resolved))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("EMULATOR_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in engine.BuildEnvironment(profile))
        {
            start.Environment[key] = value;
        }

        start.Environment["HF_HUB_CACHE"] = CacheRoot;
        start.Environment["EMULATOR_TOKEN_RATE"] = "400";
        start.Environment["EMULATOR_PREFILL_RATE"] = "50000";
        start.Environment["EMULATOR_LOAD_RATE"] = "2G";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var id = Interlocked.Increment(ref _nextId);
        var running = new Running(id, profile, profile.ModelRef, model, Process.Start(start)!);
        _servers[id] = running;
        running.Watch(engine);
        if (waitUntilReady)
        {
            var ready = await WaitUntilReadyOrFailedAsync(id, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
            if (ready?.State != ChatServerState.Ready)
            {
                throw new InvalidOperationException($"{profile.Engine} did not become ready: {ready?.FailureReason}\n{running.Output}");
            }
        }

        return running.Snapshot();
    }

    /// <summary>Lists a ready server this directory did not start (e.g. a scripted engine).</summary>
    public ChatServer AddReady(Profile profile, ChatModelCapabilities model)
    {
        var id = Interlocked.Increment(ref _nextId);
        var server = new ChatServer(id, profile, profile.ModelRef, model, ChatServerState.Ready);
        _external[id] = server;
        return server;
    }

    private readonly ConcurrentDictionary<int, ChatServer> _external = new();

    /// <summary>Kills a server's process tree (as a crash would).</summary>
    public void Kill(int serverId)
    {
        if (_servers.TryGetValue(serverId, out var running))
        {
            running.Kill();
        }
    }

    /// <summary>The engine's captured output.</summary>
    public string OutputOf(int serverId) => _servers.TryGetValue(serverId, out var running) ? running.Output : "";

    public ValueTask<IReadOnlyList<ChatServer>> ListAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<ChatServer>>(_servers.Values.OrderByDescending(s => s.Id).Select(s => s.Snapshot()).ToList());

    public ValueTask<ChatServer?> FindAsync(int serverId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_servers.TryGetValue(serverId, out var running) ? running.Snapshot() : _external.GetValueOrDefault(serverId));

    public async Task<ChatServer?> WaitUntilReadyOrFailedAsync(int serverId, CancellationToken cancellationToken)
    {
        if (!_servers.TryGetValue(serverId, out var running))
        {
            return _external.GetValueOrDefault(serverId);
        }

        await running.Settled.Task.WaitAsync(cancellationToken);
        return running.Snapshot();
    }

    public async Task<ChatServerStart> StartProfileAsync(int profileId, string userId, CancellationToken cancellationToken)
    {
        if (!Startable.TryGetValue(profileId, out var startable))
        {
            return ChatServerStart.Refused("This profile cannot be started here.");
        }

        var server = await StartAsync(startable.Profile, startable.Environment, waitUntilReady: false);
        return ChatServerStart.Started(server.ServerId);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var running in _servers.Values)
        {
            running.Kill();
            await running.Exited;
        }

        try
        {
            Directory.Delete(CacheRoot, recursive: true);
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"Could not delete {CacheRoot}: {ex.Message}");
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string InstallLaunchers()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"chat-engine-launchers-{Environment.ProcessId}");
        LauncherInstaller.Install(folder, LauncherKind.Exec, typeof(LauncherInstaller).Assembly.Location);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        };
        return folder;
    }

    private sealed class Running(int id, Profile profile, string modelReference, ChatModelCapabilities model, Process process)
    {
        private readonly StringBuilder _output = new();
        private volatile ChatServerState _state = ChatServerState.Starting;
        private string? _failure;

        public int Id { get; } = id;

        public TaskCompletionSource Settled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Exited { get; private set; } = Task.CompletedTask;

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public ChatServer Snapshot() => new(Id, profile, modelReference, model, _state, _failure);

        public void Watch(IEngineDefinition engine)
        {
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            Exited = WatchExitAsync();
            _ = ProbeAsync(engine);
        }

        public void Kill()
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException ex)
            {
                Console.Error.WriteLine($"engine {Id} already gone: {ex.Message}");
            }
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }
        }

        private async Task WatchExitAsync()
        {
            await process.WaitForExitAsync();
            process.WaitForExit();
            var lastError = Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .LastOrDefault(l => l.Contains("Error", StringComparison.Ordinal) || l.Contains("error", StringComparison.Ordinal))
                ?? $"the engine exited with status {process.ExitCode}";
            if (_state != ChatServerState.Stopped)
            {
                _failure = $"{lastError} (exit status {process.ExitCode})";
                _state = ChatServerState.Failed;
            }

            Settled.TrySetResult();
        }

        private async Task ProbeAsync(IEngineDefinition engine)
        {
            var probe = engine.BuildReadinessProbe(new ResolvedModel(modelReference));
            var baseUri = EngineAddress.BaseUri(profile.Host, profile.Port);
            using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(120) };
            var deadline = Stopwatch.StartNew();
            while (!process.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(90))
            {
                try
                {
                    using var health = await http.GetAsync(probe.HealthPath);
                    if (_state == ChatServerState.Starting)
                    {
                        _state = ChatServerState.Loading;
                    }

                    using var content = new StringContent(probe.CompletionBody, Encoding.UTF8, "application/json");
                    content.Headers.ContentLength = Encoding.UTF8.GetByteCount(probe.CompletionBody);
                    using var completion = await http.PostAsync(probe.CompletionPath, content);
                    if (completion.IsSuccessStatusCode)
                    {
                        _state = ChatServerState.Ready;
                        Settled.TrySetResult();
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                catch (TaskCanceledException)
                {
                    // The probe timed out; try again while the process lives.
                }

                await Task.Delay(100);
            }
        }
    }
}
