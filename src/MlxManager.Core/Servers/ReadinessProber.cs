using Microsoft.Extensions.Options;
using MlxManager.Core.Engines;

namespace MlxManager.Core.Servers;

/// <summary>
/// Proves a run ready: polls the engine's health (an extra signal, shown in the detail) and sends the engine's one-token
/// completion (<see cref="Engines.IEngineDefinition.BuildReadinessProbe"/>) until one comes back 2xx. Five refusals
/// in a row (4xx other than 408 and 429) fail the run; the load timeout is the watcher's to report.
/// </summary>
internal sealed class ReadinessProber(ReadinessChecker checker, RunTransitions transitions, TimeProvider time, IOptions<ServerOptions> options)
{
    private const int RefusalsBeforeFailing = 5;

    /// <summary>
    /// How often a port that does not listen yet is tried again. Short: a gateway request waits for this start, and a
    /// refused connection costs nothing (at 250 ms a cold start took ~125 ms longer on average than the engine needed).
    /// </summary>
    private static readonly TimeSpan NotListeningRetry = TimeSpan.FromMilliseconds(50);

    /// <summary>Probes until a completion comes back (ready), or the run fails, stops or is detached.</summary>
    public async Task ProbeUntilReadyAsync(SupervisedRun run)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(run.Probing.Token, run.Watching.Token);
        var token = linked.Token;
        var probe = run.Engine.BuildReadinessProbe(run.Model);
        var baseUrl = ServerSnapshot.BaseUrlFor(run.Profile.Host, run.Profile.Port);
        var refusals = 0;
        try
        {
            while (!token.IsCancellationRequested && run.State is ServerState.Starting or ServerState.Loading)
            {
                var health = await checker.CheckHealthAsync(baseUrl, run.Engine, probe, token).ConfigureAwait(false);
                if (!health.Listening)
                {
                    await Task.Delay(NotListeningRetry, time, token).ConfigureAwait(false);
                    continue;
                }

                var detail = health.Verdict switch
                {
                    HealthVerdict.Loading => "Loading the model",
                    HealthVerdict.Loaded => "The engine reports the model loaded; waiting for a first answer",
                    _ => "Listening; loading the model (waiting for a first one-token answer)",
                };
                transitions.SetLoading(run, health.Detail is { } d ? $"{detail} ({d})." : detail + ".");
                if (health.Verdict == HealthVerdict.Loading)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(500), time, token).ConfigureAwait(false);
                    continue;
                }

                var remaining = options.Value.LoadTimeoutOf(run.Profile) - (time.GetUtcNow() - run.WatchedSince);
                if (remaining <= TimeSpan.Zero)
                {
                    return; // the watcher reports the timeout
                }

                var answer = await checker.ProbeCompletionAsync(baseUrl, probe, remaining, token).ConfigureAwait(false);
                if (answer.Succeeded)
                {
                    await transitions.SetReadyAsync(run).ConfigureAwait(false);
                    return;
                }

                if (answer.StatusCode is >= 400 and < 500 and not 408 and not 429)
                {
                    refusals++;
                    transitions.SetLoading(run, $"The engine answered the readiness request with HTTP {answer.StatusCode}: {answer.Body}");
                    if (refusals >= RefusalsBeforeFailing)
                    {
                        await transitions.FailAsync(run, $"The engine is up but refuses the readiness request (HTTP {answer.StatusCode}): {answer.Body}").ConfigureAwait(false);
                        return;
                    }
                }
                else
                {
                    refusals = 0;
                }

                await Task.Delay(answer.Listening ? TimeSpan.FromSeconds(1) : NotListeningRetry, time, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped, failed or detached: nothing more to prove.
        }
    }
}
