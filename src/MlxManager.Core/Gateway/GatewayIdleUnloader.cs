using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Servers;

namespace MlxManager.Core.Gateway;

/// <summary>
/// Stops ready servers nobody has used for their profile's "Unload after idle" (default
/// <see cref="GatewayOptions.DefaultIdleTimeout"/>; 0 never), so idle models stop holding unified memory. Idle time counts
/// from the end of the last gateway request (or from when the server became ready, if none came); a server with gateway
/// requests waiting or running is never stopped, nor one whose profile says "Keep loaded". The stop reason
/// ("Unloaded after 30 min idle.") becomes the stopped server's detail on /servers. It stops under the admission gate
/// and holds the server's lane meanwhile (<see cref="GatewayAdmission.StopIdleAsync"/>): a request that arrives during
/// the stop waits for it and then starts the server again, instead of reaching a server going away.
/// </summary>
public sealed partial class GatewayIdleUnloader(
    ServerSupervisor supervisor,
    GatewayLanes lanes,
    GatewayRouter router,
    GatewayAdmission admission,
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

    private async Task UnloadIdleAsync(CancellationToken cancellationToken)
    {
        if (!supervisor.Servers.Any(s => s.IsReady))
        {
            return;
        }

        var profiles = (await router.ProfilesAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Id);
        await admission.UnderGateAsync(async () =>
        {
            foreach (var server in supervisor.Servers.Where(s => s.IsReady))
            {
                if (profiles.TryGetValue(server.ServerId, out var profile) && options.Value.IdleTimeoutOf(profile) is { } timeout && IdleFor(server, timeout))
                {
                    LogUnloading(profile.Name, timeout);
                    await admission.StopIdleAsync(server.ServerId, $"Unloaded after {Durations.DescribeRoughly(timeout)} idle.", () => IdleFor(server, timeout)).ConfigureAwait(false);
                }
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    private bool IdleFor(ServerSnapshot server, TimeSpan timeout) => time.GetUtcNow() - lanes.IdleSince(server) >= timeout;

    [LoggerMessage(Level = LogLevel.Information, Message = "Unloading \"{Profile}\": idle for {Timeout}")]
    private partial void LogUnloading(string profile, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The idle check failed")]
    private partial void LogCheckFailed(Exception exception);
}
