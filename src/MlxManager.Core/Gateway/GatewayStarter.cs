using System.Diagnostics;
using Microsoft.Extensions.Options;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Core.Gateway;

/// <summary>
/// Makes sure a profile's server is ready before a request is forwarded: a ready server is used at once; otherwise the
/// supervisor's <see cref="ServerSupervisor.StartAndWaitUntilReadyAsync"/> starts it (or joins the start under way, so
/// concurrent requests never start two processes) and the request waits, at most the supervisor's load timeout (it fails
/// the run then). A failed start answers every waiter with the engine's reason.
/// </summary>
public sealed class GatewayStarter(ServerSupervisor supervisor, IOptions<GatewayOptions> options)
{
    /// <summary>
    /// The ready server of <paramref name="profile"/>, started on behalf of <paramref name="requestedBy"/> (a user's name,
    /// for the record of who caused a start). While it loads, <paramref name="stillLoading"/> is called every
    /// <see cref="GatewayOptions.LoadingNoticeInterval"/> with the time waited so far (streaming requests send an SSE comment).
    /// </summary>
    public async Task<ServerSnapshot> EnsureReadyAsync(Profile profile, string requestedBy, Func<TimeSpan, Task> stillLoading, CancellationToken cancellationToken)
    {
        if (supervisor.Find(profile.Id) is { IsReady: true } ready)
        {
            return ready;
        }

        if (!profile.StartOnDemand && supervisor.Find(profile.Id) is not { IsActive: true, State: not ServerState.Stopping })
        {
            throw GatewayException.ModelNotRunning(profile.Name);
        }

        var waited = Stopwatch.StartNew();
        var start = supervisor.StartAndWaitUntilReadyAsync(profile.Id, cancellationToken);
        var interval = options.Value.LoadingNoticeInterval > TimeSpan.Zero ? options.Value.LoadingNoticeInterval : TimeSpan.FromSeconds(5);
        while (!start.IsCompleted)
        {
            var delay = Task.Delay(interval, cancellationToken);
            if (await Task.WhenAny(start, delay).ConfigureAwait(false) == delay && !start.IsCompleted)
            {
                await delay.ConfigureAwait(false); // throws when the client went away
                await stillLoading(waited.Elapsed).ConfigureAwait(false);
            }
        }

        var result = await start.ConfigureAwait(false);
        if (result.Succeeded && result.Server is { IsReady: true } server)
        {
            return server;
        }

        throw result.Server is { State: ServerState.Failed } failed
            ? new GatewayException(502, "server_error", "model_load_failed", $"The model \"{profile.Name}\" failed to load: {failed.Detail}")
            : new GatewayException(503, "server_error", "model_start_failed", $"The model \"{profile.Name}\" could not be started: {result.Message}");
    }
}
