using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Metrics;
using MlxManager.Core.Servers;
using MlxManager.Web.Chat;
using MlxManager.Web.Pages.Profiles;
using MlxManager.Web.Pages.Servers;

namespace MlxManager.Web.Hosting;

/// <summary>
/// Profiles and servers: the supervisor (a hosted service that re-attaches to running servers and starts auto-start
/// profiles), metrics sampling, engines, and the browser's event stream for /servers.
/// </summary>
public static class ServersHosting
{
    /// <summary>The /servers page's one SSE stream (outside /api: the browser calls it with its session cookie).</summary>
    public const string EventsPath = "/servers/events";

    /// <summary>Shortest time between two events of one stream: a burst of changes rings once.</summary>
    private static readonly TimeSpan Coalescing = TimeSpan.FromMilliseconds(200);

    public static WebApplicationBuilder AddServers(this WebApplicationBuilder builder)
    {
        // After AddDatabase: hosted services start in registration order, so migrations have run when the
        // supervisor re-attaches to the servers recorded in app.db.
        ServersServiceCollectionExtensions.AddServers(builder.Services, builder.Configuration);
        builder.Services.AddSingleton<ServersViewBuilder>();
        builder.Services.AddScoped<MlxManager.Core.Profiles.ProfileEditor>();
        builder.Services.AddSingleton<IChatServerDirectory, SupervisorChatServers>(); // what the chat sees of the servers
        return builder;
    }

    public static WebApplication MapServers(this WebApplication app)
    {
        app.MapGet(EventsPath, (IServerDirectory servers, MetricsSampler metrics, IHostApplicationLifetime lifetime, HttpContext http) =>
                TypedResults.ServerSentEvents(StreamAsync(servers, metrics, lifetime.ApplicationStopping, http.RequestAborted)))
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>
    /// Rings for the page: <c>tick</c> (data: a version) when a server changed or the sampler measured them, so the
    /// page re-fetches its live region; <c>logs</c> (data: <c>serverId:runId:lastSequence</c> …) when servers' logs
    /// grew, so open log panels fetch their new lines. Events are small: pages fetch the HTML themselves, with their
    /// own session, so every fragment is rendered for the right user. Ends when the browser leaves or the app stops.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> StreamAsync(
        IServerDirectory servers,
        MetricsSampler metrics,
        CancellationToken stopping,
        [EnumeratorCancellation] CancellationToken aborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, aborted);
        var token = linked.Token;
        var doorbell = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        var tick = 1; // the first ring brings the page up to date with whatever changed since it was rendered
        var logs = new Dictionary<int, long>();
        var gate = new Lock();
        void RingTick()
        {
            Interlocked.Exchange(ref tick, 1);
            doorbell.Writer.TryWrite(true);
        }

        Action<ServerSnapshot> changed = _ => RingTick();
        Action<MetricsSnapshot> measured = snapshot =>
        {
            if (snapshot.Servers.Count > 0)
            {
                RingTick();
            }
        };
        Action<int, long> logged = (id, sequence) =>
        {
            lock (gate)
            {
                logs[id] = sequence;
            }

            doorbell.Writer.TryWrite(true);
        };
        servers.Changed += changed;
        servers.LogAdvanced += logged;
        metrics.SnapshotPublished += measured;
        try
        {
            doorbell.Writer.TryWrite(true);
            while (true)
            {
                try
                {
                    await doorbell.Reader.ReadAsync(token);
                    await Task.Delay(Coalescing, token);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }

                if (Interlocked.Exchange(ref tick, 0) == 1)
                {
                    yield return new SseItem<string>(servers.Version.ToString(CultureInfo.InvariantCulture), "tick");
                }

                string? grown = null;
                lock (gate)
                {
                    if (logs.Count > 0)
                    {
                        grown = string.Join(' ', logs.Select(l => $"{l.Key}:{servers.Find(l.Key)?.RunId ?? 0}:{l.Value}"));
                        logs.Clear();
                    }
                }

                if (grown is not null)
                {
                    yield return new SseItem<string>(grown, "logs");
                }
            }
        }
        finally
        {
            servers.Changed -= changed;
            servers.LogAdvanced -= logged;
            metrics.SnapshotPublished -= measured;
        }
    }
}
