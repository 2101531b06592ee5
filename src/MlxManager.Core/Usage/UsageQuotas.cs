using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Data;
using MlxManager.Core.Library;

namespace MlxManager.Core.Usage;

/// <summary>
/// Tokens per UTC day and requests at once, per user, for the gateway and the web chat together. Everything it checks
/// is in memory: the limits (loaded at start-up and replaced when an administrator saves them), the tokens of today
/// (today's <see cref="UsageDailyTotal"/>s at start-up, then every ledger row as it is recorded — it is an
/// <see cref="IUsageObserver"/>) and the requests running (<see cref="QuotaLease"/>s). A request is refused once the day's
/// tokens reached the limit (its own size is unknown beforehand), until the next 00:00 UTC.
/// </summary>
public sealed class UsageQuotas(IServiceScopeFactory scopes, TimeProvider time) : IUsageObserver
{
    public const string TokensPerDayKey = "usage.quota.tokensPerDay";
    public const string ConcurrentRequestsKey = "usage.quota.concurrentRequests";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (DateTime Day, long Tokens)> _used = [];
    private readonly Dictionary<string, int> _running = [];
    private Dictionary<string, UserQuota> _overrides = [];
    private QuotaLimits _defaults = QuotaLimits.None;

    /// <summary>The defaults of the Settings page (no limit when unset).</summary>
    public QuotaLimits Defaults => _defaults;

    /// <summary>Reads limits and today's tokens from the database; called at start-up, before requests are served.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var today = Today;
        var tokens = await db.UsageDailyTotals.Where(total => total.Day == today)
            .GroupBy(total => total.UserId)
            .Select(group => new { UserId = group.Key, Tokens = group.Sum(total => total.PromptTokens + total.CompletionTokens) })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        var overrides = await db.UserQuotas.AsNoTracking().ToDictionaryAsync(quota => quota.UserId, cancellationToken).ConfigureAwait(false);
        var settings = await db.Set<AppSetting>().AsNoTracking()
            .Where(setting => setting.Key == TokensPerDayKey || setting.Key == ConcurrentRequestsKey)
            .ToDictionaryAsync(setting => setting.Key, setting => setting.Value, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            foreach (var user in tokens)
            {
                _used[user.UserId] = (today, user.Tokens);
            }

            _overrides = overrides;
            _defaults = new QuotaLimits(
                Limit(settings.GetValueOrDefault(TokensPerDayKey)),
                (int?)Limit(settings.GetValueOrDefault(ConcurrentRequestsKey)));
        }
    }

    /// <summary>The limits that apply to <paramref name="userId"/>: theirs, else the defaults.</summary>
    public QuotaLimits LimitsOf(string userId)
    {
        lock (_lock)
        {
            var own = _overrides.GetValueOrDefault(userId);
            return new QuotaLimits(
                Effective(own?.TokensPerDay, _defaults.TokensPerDay),
                (int?)Effective(own?.ConcurrentRequests, _defaults.ConcurrentRequests));
        }
    }

    /// <summary>The administrator's own settings for <paramref name="userId"/> (null fields take the default).</summary>
    public UserQuota? OverrideOf(string userId)
    {
        lock (_lock)
        {
            return _overrides.GetValueOrDefault(userId);
        }
    }

    /// <summary>Tokens <paramref name="userId"/> used today (UTC), web chat and gateway.</summary>
    public long TokensToday(string userId)
    {
        lock (_lock)
        {
            return _used.TryGetValue(userId, out var used) && used.Day == Today ? used.Tokens : 0;
        }
    }

    /// <summary>
    /// Lets a request of <paramref name="userId"/> run, or says why not (<see cref="QuotaLease.Refusal"/>). Dispose the lease
    /// when the request ends: it counts toward the concurrent requests until then.
    /// </summary>
    public QuotaLease Admit(string userId)
    {
        var limits = LimitsOf(userId);
        lock (_lock)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var used = _used.TryGetValue(userId, out var day) && day.Day == now.Date ? day.Tokens : 0;
            if (limits.TokensPerDay is { } tokens && used >= tokens)
            {
                var resets = now.Date.AddDays(1) - now;
                return new QuotaLease(null, userId, new QuotaRefusal(
                    QuotaKind.TokensPerDay,
                    string.Create(CultureInfo.InvariantCulture,
                        $"You have used {used:N0} of your {tokens:N0} tokens for today. The quota resets at 00:00 UTC, in {Servers.Durations.Describe(resets)}."),
                    resets));
            }

            var running = _running.GetValueOrDefault(userId);
            if (limits.ConcurrentRequests is { } concurrent && running >= concurrent)
            {
                return new QuotaLease(null, userId, new QuotaRefusal(
                    QuotaKind.ConcurrentRequests,
                    $"You already have {running} requests running, the most you may have at once; send the next one when one has finished.",
                    TimeSpan.FromSeconds(1)));
            }

            _running[userId] = running + 1;
            return new QuotaLease(this, userId, null);
        }
    }

    public void OnRecorded(UsageRecord row)
    {
        if (row.TotalTokens == 0)
        {
            return;
        }

        lock (_lock)
        {
            var day = row.Day;
            if (!_used.TryGetValue(row.UserId, out var used) || used.Day < day)
            {
                _used[row.UserId] = (day, row.TotalTokens);
            }
            else if (used.Day == day)
            {
                _used[row.UserId] = (day, used.Tokens + row.TotalTokens);
            }
        }
    }

    /// <summary>Saves the defaults of the Settings page (null = no limit) and applies them at once.</summary>
    public async Task SaveDefaultsAsync(QuotaLimits defaults, string? actorId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var (key, value) in new[] { (TokensPerDayKey, defaults.TokensPerDay), (ConcurrentRequestsKey, (long?)defaults.ConcurrentRequests) })
        {
            var setting = await db.Set<AppSetting>().FindAsync([key], cancellationToken).ConfigureAwait(false);
            if (setting is null)
            {
                setting = new AppSetting { Key = key };
                db.Add(setting);
            }

            setting.Value = value?.ToString(CultureInfo.InvariantCulture) ?? "";
            setting.UpdatedAtUtc = now;
            setting.UpdatedBy = actorId;
        }

        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            _defaults = defaults;
        }
    }

    /// <summary>Saves <paramref name="userId"/>'s own limits (null = the default, 0 = no limit) and applies them at once.</summary>
    public async Task SaveUserAsync(string userId, long? tokensPerDay, int? concurrentRequests, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var quota = await db.UserQuotas.FindAsync([userId], cancellationToken).ConfigureAwait(false);
        if (quota is null)
        {
            quota = new UserQuota { UserId = userId };
            db.UserQuotas.Add(quota);
        }

        quota.TokensPerDay = tokensPerDay;
        quota.ConcurrentRequests = concurrentRequests;
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            _overrides = new Dictionary<string, UserQuota>(_overrides)
            {
                [userId] = new UserQuota { UserId = userId, TokensPerDay = tokensPerDay, ConcurrentRequests = concurrentRequests },
            };
        }
    }

    private DateTime Today => time.GetUtcNow().UtcDateTime.Date;

    private void Release(string userId)
    {
        lock (_lock)
        {
            if (_running.TryGetValue(userId, out var running) && running > 1)
            {
                _running[userId] = running - 1;
            }
            else
            {
                _running.Remove(userId);
            }
        }
    }

    /// <summary>A stored default: empty or zero is no limit.</summary>
    private static long? Limit(string? stored) =>
        long.TryParse(stored, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : null;

    /// <summary>A user's own value wins (zero: no limit); null takes the default.</summary>
    private static long? Effective(long? own, long? fallback) => own switch
    {
        null => fallback,
        0 => null,
        var value => value,
    };

    /// <summary>A request's place in its user's concurrent requests, or the reason it may not run.</summary>
    public sealed class QuotaLease : IDisposable
    {
        private UsageQuotas? _owner;
        private readonly string _userId;

        internal QuotaLease(UsageQuotas? owner, string userId, QuotaRefusal? refusal)
        {
            _owner = owner;
            _userId = userId;
            Refusal = refusal;
        }

        /// <summary>Why the request may not run; null when it may.</summary>
        public QuotaRefusal? Refusal { get; }

        public void Dispose() => Interlocked.Exchange(ref _owner, null)?.Release(_userId);
    }
}

/// <summary>Which limit refused a request.</summary>
public enum QuotaKind
{
    TokensPerDay,
    ConcurrentRequests,
}

/// <summary>A refusal: a sentence for the user and when to try again (429 <c>Retry-After</c>).</summary>
public sealed record QuotaRefusal(QuotaKind Kind, string Message, TimeSpan RetryAfter);
