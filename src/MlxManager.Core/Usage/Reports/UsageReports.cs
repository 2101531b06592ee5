using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Data;

namespace MlxManager.Core.Usage.Reports;

/// <summary>What a usage report covers. A member's report is always their own, whatever <see cref="UserId"/> says.</summary>
/// <param name="ViewerId">Who asks.</param>
/// <param name="ViewerIsAdmin">Admins see everyone's usage, or one user's with <see cref="UserId"/>.</param>
/// <param name="Days">The last 7, 30 or 90 UTC days, today included (<see cref="UsageReports.Ranges"/>).</param>
/// <param name="UserId">An admin's user filter; null for everyone.</param>
public sealed record UsageScope(string ViewerId, bool ViewerIsAdmin, int Days, string? UserId = null)
{
    /// <summary>The user whose rows are read, or null for everyone's (admins only).</summary>
    public string? EffectiveUserId => ViewerIsAdmin ? UserId : ViewerId;
}

/// <summary>One day's sums for one user, key (or the web chat / an API token), source and model.</summary>
public sealed record UsageRow(
    DateOnly Day,
    string UserId,
    string User,
    int? ApiKeyId,
    string Key,
    UsageSource Source,
    string Model,
    int Requests,
    int Errors,
    int Cancelled,
    int RefusedByQuota,
    long PromptTokens,
    long CompletionTokens,
    long ReasoningTokens,
    int EstimatedRequests,
    long TimeToFirstTokenMs,
    int TimeToFirstTokenCount,
    long QueueWaitMs)
{
    /// <summary>Prompt and completion tokens (reasoning tokens are part of the completion).</summary>
    public long Tokens => PromptTokens + CompletionTokens;
}

/// <summary>Sums of a group of rows (a model, a user, a key).</summary>
public sealed record UsageGroup(string Name, int Requests, int Errors, long PromptTokens, long CompletionTokens, long ReasoningTokens, double? AverageTimeToFirstTokenMs, double AverageQueueWaitMs)
{
    public long Tokens => PromptTokens + CompletionTokens;

    public static UsageGroup Of(string name, IEnumerable<UsageRow> rows)
    {
        var list = rows as IReadOnlyCollection<UsageRow> ?? [.. rows];
        var ttftCount = list.Sum(r => r.TimeToFirstTokenCount);
        var requests = list.Sum(r => r.Requests);
        return new UsageGroup(
            name,
            requests,
            list.Sum(r => r.Errors),
            list.Sum(r => r.PromptTokens),
            list.Sum(r => r.CompletionTokens),
            list.Sum(r => r.ReasoningTokens),
            ttftCount == 0 ? null : (double)list.Sum(r => r.TimeToFirstTokenMs) / ttftCount,
            requests == 0 ? 0 : (double)list.Sum(r => r.QueueWaitMs) / requests);
    }
}

/// <summary>A usage report: the daily rows of its scope and their sums by model, user and key.</summary>
public sealed record UsageReport(UsageScope Scope, DateOnly From, DateOnly To, IReadOnlyList<UsageRow> Rows)
{
    /// <summary>Each day of the range, oldest first, with no gaps (days without use have no rows).</summary>
    public IEnumerable<DateOnly> Days => Enumerable.Range(0, To.DayNumber - From.DayNumber + 1).Select(From.AddDays);

    public IReadOnlyList<UsageGroup> ByModel => GroupBy(r => r.Model);

    public IReadOnlyList<UsageGroup> ByUser => GroupBy(r => r.User);

    public IReadOnlyList<UsageGroup> ByKey => GroupBy(r => r.Key);

    public UsageGroup Total => UsageGroup.Of("Total", Rows);

    private List<UsageGroup> GroupBy(Func<UsageRow, string> name) =>
        [.. Rows.GroupBy(name).Select(g => UsageGroup.Of(g.Key, g)).OrderByDescending(g => g.Tokens).ThenBy(g => g.Name, StringComparer.Ordinal)];
}

/// <summary>
/// Reads usage for the <c>/usage</c> page and its CSV from <see cref="UsageDailyTotal"/> only — one row per day, user, key,
/// source and model whatever the number of requests — so a 90-day report reads a few thousand rows at most, and
/// reports older than the ledger's retention still add up.
/// </summary>
public sealed class UsageReports(AppDbContext db, TimeProvider time)
{
    /// <summary>The ranges the page offers, in days.</summary>
    public static readonly IReadOnlyList<int> Ranges = [7, 30, 90];

    /// <summary>Names a row by its key: the key's name, or how the request came when it used none.</summary>
    public const string WebChat = "Web chat";

    public const string ApiToken = "API token";

    public async Task<UsageReport> ReadAsync(UsageScope scope, CancellationToken cancellationToken)
    {
        var days = Ranges.Contains(scope.Days) ? scope.Days : Ranges[0];
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var from = today.AddDays(1 - days);
        var fromUtc = from.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var userId = scope.EffectiveUserId;
        var totals = await db.UsageDailyTotals.AsNoTracking()
            .Where(t => t.Day >= fromUtc && (userId == null || t.UserId == userId))
            .ToListAsync(cancellationToken);

        var userIds = totals.Select(t => t.UserId).Distinct().ToList();
        var emails = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id))
            .ToDictionaryAsync(u => u.Id, u => u.Email ?? u.Id, cancellationToken);
        var keyIds = totals.Where(t => t.ApiKeyId != null).Select(t => t.ApiKeyId!.Value).Distinct().ToList();
        var keyNames = await db.ApiKeys.AsNoTracking().Where(k => keyIds.Contains(k.Id))
            .ToDictionaryAsync(k => k.Id, k => k.Name, cancellationToken);

        var rows = totals
            .Select(t => new UsageRow(
                DateOnly.FromDateTime(t.Day),
                t.UserId,
                emails.GetValueOrDefault(t.UserId, "(deleted user)"),
                t.ApiKeyId,
                t.ApiKeyId is { } key ? keyNames.GetValueOrDefault(key, $"(deleted key {key})") : t.Source == UsageSource.Chat ? WebChat : ApiToken,
                t.Source,
                t.Model,
                t.Requests,
                t.Errors,
                t.Cancelled,
                t.RefusedByQuota,
                t.PromptTokens,
                t.CompletionTokens,
                t.ReasoningTokens,
                t.EstimatedRequests,
                t.TimeToFirstTokenMs,
                t.TimeToFirstTokenCount,
                t.QueueWaitMs))
            .OrderByDescending(r => r.Day).ThenBy(r => r.User, StringComparer.Ordinal).ThenBy(r => r.Key, StringComparer.Ordinal).ThenBy(r => r.Model, StringComparer.Ordinal)
            .ToList();
        return new UsageReport(scope with { Days = days }, from, today, rows);
    }

    /// <summary>Everyone who may appear in a report, for an admin's user filter: (id, e-mail) by e-mail.</summary>
    public async Task<IReadOnlyList<(string Id, string Email)>> UsersAsync(CancellationToken cancellationToken) =>
        (await db.Users.AsNoTracking().OrderBy(u => u.Email).Select(u => new { u.Id, u.Email }).ToListAsync(cancellationToken))
            .Select(u => (u.Id, u.Email ?? u.Id)).ToList();
}
