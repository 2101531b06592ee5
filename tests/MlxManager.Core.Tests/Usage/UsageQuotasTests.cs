using MlxManager.Core.Usage;

namespace MlxManager.Core.Tests.Usage;

public sealed class UsageQuotasTests(UsageDatabase db) : IClassFixture<UsageDatabase>
{
    [Fact]
    public async Task OverTheDailyTokens_RequestsAreRefusedUntilMidnightUtc_ThenAllowedAgain()
    {
        var user = await db.AddUserAsync("quota-tokens@example.com");
        var quotas = db.NewQuotas();
        await quotas.SaveUserAsync(user, tokensPerDay: 100, concurrentRequests: null, CancellationToken.None);
        db.MoveToALaterDayAt(23);
        using (var first = quotas.Admit(user))
        {
            first.Refusal.ShouldBeNull();
        }

        quotas.OnRecorded(db.Row(user, db.Clock.GetUtcNow().UtcDateTime, prompt: 60, completion: 60));
        using var refused = quotas.Admit(user);

        refused.Refusal.ShouldNotBeNull().Kind.ShouldBe(QuotaKind.TokensPerDay);
        refused.Refusal.RetryAfter.ShouldBe(TimeSpan.FromHours(1));
        refused.Refusal.Message.ShouldContain("120 of your 100 tokens");
        refused.Refusal.Message.ShouldContain("00:00 UTC");
        quotas.TokensToday(user).ShouldBe(120);

        db.Clock.Advance(TimeSpan.FromHours(1));

        using var nextDay = quotas.Admit(user);
        nextDay.Refusal.ShouldBeNull("the quota resets at 00:00 UTC");
        quotas.TokensToday(user).ShouldBe(0);
    }

    [Fact]
    public async Task ConcurrentRequests_BeyondTheLimit_AreRefused_AndAFinishedOneMakesRoom()
    {
        var user = await db.AddUserAsync("quota-concurrent@example.com");
        var quotas = db.NewQuotas();
        await quotas.SaveUserAsync(user, tokensPerDay: null, concurrentRequests: 2, CancellationToken.None);
        var first = quotas.Admit(user);
        using var second = quotas.Admit(user);

        using var third = quotas.Admit(user);

        first.Refusal.ShouldBeNull();
        second.Refusal.ShouldBeNull();
        third.Refusal.ShouldNotBeNull().Kind.ShouldBe(QuotaKind.ConcurrentRequests);
        third.Refusal.RetryAfter.ShouldBe(TimeSpan.FromSeconds(1));
        first.Dispose();
        first.Dispose(); // twice counts once
        using var fourth = quotas.Admit(user);
        fourth.Refusal.ShouldBeNull();
        using var fifth = quotas.Admit(user);
        fifth.Refusal.ShouldNotBeNull();
    }

    [Fact]
    public async Task Defaults_ApplyToUsersWithoutTheirOwn_AndZeroMeansNoLimit()
    {
        var plain = await db.AddUserAsync("quota-default@example.com");
        var unlimited = await db.AddUserAsync("quota-unlimited@example.com");
        var quotas = db.NewQuotas();

        await quotas.SaveDefaultsAsync(new QuotaLimits(1000, 4), actorId: null, CancellationToken.None);
        await quotas.SaveUserAsync(unlimited, tokensPerDay: 0, concurrentRequests: null, CancellationToken.None);

        quotas.LimitsOf(plain).ShouldBe(new QuotaLimits(1000, 4));
        quotas.LimitsOf(unlimited).ShouldBe(new QuotaLimits(null, 4));
        var reloaded = db.NewQuotas();
        await reloaded.LoadAsync(CancellationToken.None);
        reloaded.LimitsOf(plain).ShouldBe(new QuotaLimits(1000, 4), "kept in the Settings table");
        reloaded.LimitsOf(unlimited).ShouldBe(new QuotaLimits(null, 4));
        await quotas.SaveDefaultsAsync(QuotaLimits.None, actorId: null, CancellationToken.None);
    }

    [Fact]
    public async Task AfterARestart_TodaysTokensComeFromTheDailyTotals()
    {
        var user = await db.AddUserAsync("quota-restart@example.com");
        var now = db.MoveToALaterDayAt(10);
        await db.WriteAsync(db.Row(user, now.AddHours(-1), prompt: 30, completion: 12), db.Row(user, now.AddDays(-1), prompt: 500, completion: 500));

        var quotas = db.NewQuotas();
        await quotas.LoadAsync(CancellationToken.None);

        quotas.TokensToday(user).ShouldBe(42, "only today's tokens count");
    }
}
