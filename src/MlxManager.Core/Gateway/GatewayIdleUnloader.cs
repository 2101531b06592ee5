using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Core.Gateway;

/// <summary>
/// Stops ready servers nobody has used for their profile's "Unload after idle" (default
/// <see cref="GatewayOptions.DefaultIdleTimeout"/>; 0 never), so idle models stop holding unified memory. Idle time counts
/// from the end of the last gateway request (or from when the server became ready, if none came); a server with gateway
/// requests waiting or running is never stopped, nor one whose profile says "Keep loaded". The stop reason
/// ("Unloaded after 30 min idle.") becomes the stopped server's detail on /servers.
/// </summary>
public sealed partial class GatewayIdleUnloader(
    ServerSupervisor supervisor,
    GatewayLanes lanes,
    GatewayRouter router,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<GatewayIdleUnloader> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.IdleCheckInterval > TimeSpan.Zero ? options.Value.IdleCheckInterval : TimeSpan.FromSeconds(15);
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await UnloadIdleAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogCheckFailed(e);
            }
        }
    }

    /// <summary>The idle time after which <paramref name="profile"/>'s server is stopped; null when never.</summary>
    public TimeSpan? IdleTimeoutOf(Profile profile)
    {
        var timeout = profile.UnloadAfterIdleMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : options.Value.DefaultIdleTimeout;
        return profile.KeepLoaded || timeout <= TimeSpan.Zero ? null : timeout;
    }

    private async Task UnloadIdleAsync(CancellationToken cancellationToken)
    {
        var ready = supervisor.Servers.Where(s => s.IsReady).ToList();
        if (ready.Count == 0)
        {
            return;
        }

        var profiles = (await router.ProfilesAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Id);
        var now = time.GetUtcNow();
        foreach (var server in ready)
        {
            if (!profiles.TryGetValue(server.ServerId, out var profile) || IdleTimeoutOf(profile) is not { } timeout
                || lanes.InFlight(server.ServerId) > 0)
            {
                continue;
            }

            var since = server.ReadyAt ?? server.StartedAt;
            if (lanes.LastUsed(server.ServerId) is { } used && used > since)
            {
                since = used;
            }

            if (now - since >= timeout)
            {
                LogUnloading(profile.Name, timeout);
                await supervisor.StopServerAsync(server.ServerId, $"Unloaded after {Durations.Describe(timeout)} idle.", cancellationToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Unloading \"{Profile}\": idle for {Timeout}")]
    private partial void LogUnloading(string profile, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The idle check failed")]
    private partial void LogCheckFailed(Exception exception);
}
