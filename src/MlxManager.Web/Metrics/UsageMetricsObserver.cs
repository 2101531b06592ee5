using MlxManager.Core.Usage;

namespace MlxManager.Web.Metrics;

/// <summary>
/// Counts every ledger row into <c>/metrics</c> as it is recorded: requests by outcome, tokens by kind, and the queue
/// wait, time to first token and duration histograms, per source and profile. A row refused before a profile was chosen
/// counts under <c>profile=""</c>: the model name a client sent is never a label (anyone could make up new ones).
/// </summary>
public sealed class UsageMetricsObserver(PrometheusMetrics metrics) : IUsageObserver
{
    public void OnRecorded(UsageRecord row)
    {
        var source = row.Source == UsageSource.Chat ? "chat" : "gateway";
        var profile = row.ProfileId is null ? "" : row.ProfileName;
        metrics.Requests.WithLabels(source, profile, Word(row.Outcome)).Inc();
        metrics.Tokens.WithLabels(source, profile, "prompt").Inc(row.PromptTokens);
        metrics.Tokens.WithLabels(source, profile, "completion").Inc(row.CompletionTokens);
        metrics.Tokens.WithLabels(source, profile, "reasoning").Inc(row.ReasoningTokens);
        if (row.Outcome == UsageOutcome.RefusedByQuota)
        {
            return; // it never queued nor ran
        }

        metrics.QueueWait.WithLabels(source, profile).Observe(row.QueueWaitMs / 1000.0);
        metrics.Duration.WithLabels(source, profile).Observe(row.DurationMs / 1000.0);
        if (row.TimeToFirstTokenMs is { } ttft)
        {
            metrics.TimeToFirstToken.WithLabels(source, profile).Observe(ttft / 1000.0);
        }
    }

    private static string Word(UsageOutcome outcome) => outcome switch
    {
        UsageOutcome.Ok => "ok",
        UsageOutcome.Error => "error",
        UsageOutcome.Cancelled => "cancelled",
        _ => "refused_by_quota",
    };
}
