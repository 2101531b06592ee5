using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Data;
using MlxManager.Core.Engines;
using MlxManager.Core.Metrics;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers.Infrastructure;

/// <summary>
/// A generic host with the real supervisor, metrics sampler, model library and SQLite database on a data folder of
/// its own, pointed at the <see cref="EngineWorld"/>'s launchers and HF cache through configuration, as a user
/// would configure it. Dispose stops it (and, unless <see cref="StopServersOnExit"/> is false, its servers), then deletes
/// the data folder when the host made it itself: only then, because stopping still writes to its database.
/// </summary>
public sealed class SupervisorHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly bool _ownsFolder;

    private SupervisorHost(IHost host, string dataFolder, bool ownsFolder)
    {
        _host = host;
        DataFolder = dataFolder;
        _ownsFolder = ownsFolder;
    }

    public string DataFolder { get; }

    public IServiceProvider Services => _host.Services;

    public ServerSupervisor Supervisor => Services.GetRequiredService<ServerSupervisor>();

    public MetricsSampler Metrics => Services.GetRequiredService<MetricsSampler>();

    /// <summary>Starts a host on <paramref name="dataFolder"/> (a new temp folder when null, deleted on dispose).</summary>
    public static async Task<SupervisorHost> StartAsync(
        EngineWorld world,
        ITestOutputHelper? output = null,
        string? dataFolder = null,
        bool wrapperLaunchers = false,
        bool stopServersOnExit = true,
        IDictionary<string, string?>? settings = null)
    {
        var ownsFolder = dataFolder is null;
        dataFolder ??= Directory.CreateTempSubdirectory("mlxm-supervisor-").FullName;
        var data = new DataDirectory(dataFolder);
        data.EnsureCreated();
        var configuration = new Dictionary<string, string?>
        {
            ["MlxManager:HuggingFace:HubCache"] = world.HubCache,
            ["MlxManager:Metrics:Interval"] = "00:00:00.5",
            ["MlxManager:Servers:StopServersOnExit"] = stopServersOnExit ? "true" : "false",
            ["MlxManager:Servers:StopGracePeriod"] = "00:00:05",
            ["MlxManager:Servers:LoadTimeout"] = "00:01:00",
        };
        foreach (var engine in new[] { MlxLmServer.EngineKey, MlxVlmServer.EngineKey, MlxOpenAiServer.EngineKey })
        {
            configuration[EngineOptions.PathKey(engine)] = world.Launcher(engine, wrapperLaunchers);
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Information);
            if (output is not null)
            {
                logging.AddProvider(new TestOutputLoggerProvider(output));
            }
        });
        builder.Services.AddSingleton(data);
        builder.Services.AddDbContext<AppDbContext>(options => options.UseSqlite(SqliteDatabase.ConnectionString(data.AppDatabasePath)));
        builder.Services.AddHostedService<DatabaseStartup>();
        builder.Services.AddServers(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        return new SupervisorHost(host, dataFolder, ownsFolder);
    }

    /// <summary>Saves a profile for <paramref name="engine"/> serving <paramref name="model"/> on a free port, with fast emulator rates.</summary>
    public async Task<Profile> AddProfileAsync(string name, string engine, string model, string? environment = null, Action<Profile>? configure = null)
    {
        var now = DateTimeOffset.UtcNow;
        var profile = new Profile
        {
            Name = name,
            Engine = engine,
            ModelRef = model,
            Port = FreePort(),
            EnvironmentVariables = MergeEnvironment("EMULATOR_LOAD_RATE=2G\nEMULATOR_TOKEN_RATE=400\nEMULATOR_PREFILL_RATE=20000", environment),
            CreatedAt = now,
            UpdatedAt = now,
        };
        configure?.Invoke(profile);
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        db.Profiles.Add(profile);
        await db.SaveChangesAsync();
        return profile;
    }

    /// <summary>KEY=VALUE lines of <paramref name="defaults"/>, each overridden by the same key in <paramref name="overrides"/>.</summary>
    public static string MergeEnvironment(string defaults, string? overrides)
    {
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (defaults + "\n" + overrides).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = line.IndexOf('=');
            merged[line[..equals]] = line[(equals + 1)..];
        }

        return string.Join('\n', merged.Select(p => $"{p.Key}={p.Value}"));
    }

    public async Task<ServerRun?> RunAsync(long runId)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AppDbContext>().ServerRuns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await _host.StopAsync(stop.Token);
        }

        _host.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_ownsFolder)
        {
            DeleteFolder(DataFolder);
        }
    }

    /// <summary>Deletes a data folder once no host uses it any more.</summary>
    public static void DeleteFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"Could not delete {folder}: {e.Message}");
        }
    }

    private sealed class DatabaseStartup(IServiceProvider services) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await using var scope = services.CreateAsyncScope();
            await SqliteDatabase.PrepareAsync(scope.ServiceProvider.GetRequiredService<AppDbContext>(), cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>Writes the host's log to the test output, so a failing test shows what the supervisor did.</summary>
internal sealed class TestOutputLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new TestOutputLogger(output, categoryName);

    public void Dispose()
    {
    }

    private sealed class TestOutputLogger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && !category.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category.Split('.')[^1]}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; xunit no longer takes output for it.
            }
        }
    }
}
