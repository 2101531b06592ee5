using MlxManager.Core.Chat;

namespace MlxManager.Core.Tests.Chat;

/// <summary>What a stream said, in one comparable value: lets split-anywhere tests compare against a one-shot parse.</summary>
internal sealed record StreamSummary(
    string Content,
    string Reasoning,
    string ToolCalls,
    string? FinishReason,
    string? Error,
    bool Complete,
    string Usage,
    string Progress)
{
    public static StreamSummary Of(IEnumerable<ChatStreamEvent> events)
    {
        var builder = new AssistantTurnBuilder();
        var usage = "";
        var progress = new List<string>();
        foreach (var e in events)
        {
            builder.Apply(e);
            switch (e)
            {
                case UsageReported u:
                    usage = u.Usage.ToString();
                    break;
                case PrefillProgress p:
                    progress.Add($"{p.Done}/{p.Total}");
                    break;
            }
        }

        return new StreamSummary(
            builder.Content,
            builder.Reasoning,
            string.Join(" | ", builder.ToolCalls.Select(c => $"{c.Id}:{c.Name}:{c.Arguments}")),
            builder.FinishReason,
            builder.Error,
            builder.Complete,
            usage,
            string.Join(",", progress));
    }
}
