using System.Diagnostics;
using Microsoft.Extensions.Options;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Core.Gateway;

/// <summary>
/// Makes sure a profile's server is ready before a request is forwarded: a ready server is used at once; one starting or
/// loading is waited for (never two processes for one profile); otherwise <see cref="GatewayAdmission"/> starts it when
/// its memory estimate fits (stopping idle servers to make room, else 503 <c>insufficient_memory</c>) and the request
/// waits, at most the supervisor's load timeout (it fails the run then). A failed start answers every waiter with the
/// engine's reason. The gateway and the web chat start on-demand profiles through here, under the same rules.
/// </summary>
public sealed class GatewayStarter(ServerSupervisor supervisor, GatewayAdmission admission, IOptions<GatewayOptions> options)
{
    /// <summary>
    /// The ready server of <paramref name="profile"/>, started for <paramref name="requestedBy"/> (the user's e-mail or
    /// name, shown in the reason of any server stopped to make room). While it loads, <paramref name="stillLoading"/> is
    /// called every <see cref="GatewayOptions.LoadingNoticeInterval"/> with the time waited so far (streaming requests
    /// send an SSE comment).
    /// </summary>
    public async Task<ServerSnapshot> EnsureReadyAsync(Profile profile, string requestedBy, Func<TimeSpan, Task> stillLoading, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (supervisor.Find(profile.Id) is { IsReady: true } ready)
        {
            return ready;
        }

        if (!profile.StartOnDemand && supervisor.Find(profile.Id) is not { IsActive: true, State: not ServerState.Stopping })
        {
            throw GatewayException.ModelNotRunning(profile.Name);
        }

        var waited = Stopwatch.StartNew();
        var start = StartAndWaitAsync(profile, requestedBy, cancellationToken);
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

    /// <summary>Joins the run under way, or starts one through admission; then waits until it is ready, failed or stopped.</summary>
    private async Task<ServerCommandResult> StartAndWaitAsync(Profile profile, string requestedBy, CancellationToken cancellationToken)
    {
        if (supervisor.Find(profile.Id) is not { IsActive: true, State: not ServerState.Stopping })
        {
            var started = await admission.StartAsync(profile, requestedBy, cancellationToken).ConfigureAwait(false);
            if (!started.Succeeded)
            {
                return started;
            }
        }

        var settled = await supervisor.WaitUntilSettledAsync(profile.Id, cancellationToken).ConfigureAwait(false);
        return settled is { IsReady: true }
            ? new ServerCommandResult(true, $"\"{profile.Name}\" is ready.", settled)
            : new ServerCommandResult(false, settled is null ? "It is not running." : $"\"{profile.Name}\" is {settled.State.Word()}: {settled.Detail}", settled);
    }
}
