using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Usage;

namespace MlxManager.Core.Tests.Usage;

public sealed class UsageLedgerTests(UsageDatabase db) : IClassFixture<UsageDatabase>
{
    [Fact]
    public async Task RecordedRows_AreWrittenInBatches_WithTheirDailyTotals_AndEveryObserverSeesEachRow()
    {
        var user = await db.AddUserAsync("ledger-writer@example.com");
        var seen = new CountingObserver();
        var also = new CountingObserver();
        var ledger = db.NewLedger(seen, also);
        var writer = db.NewWriter(ledger);
        await writer.StartAsync(CancellationToken.None);
        var day = new DateTime(2026, 3, 9, 8, 0, 0, DateTimeKind.Utc);
        var rows = Enumerable.Range(0, 1200).Select(i => db.Row(user, day.AddSeconds(i), prompt: 1, completion: 2, apiKeyId: i % 2 == 0 ? 7 : null)).ToList();
        rows[0].Outcome = UsageOutcome.Error;
        rows[0].TimeToFirstTokenMs = 40;
        rows[2].TimeToFirstTokenMs = 60;
        rows[4].StartedServer = true;

        foreach (var row in rows)
        {
            ledger.Record(row);
        }

        await Eventually.WaitUntilAsync(async () => await db.WithDbAsync(d => d.UsageRecords.CountAsync(r => r.UserId == user)) == 1200,
            TimeSpan.FromSeconds(60), "the writer stores every row");
        await writer.StopAsync(CancellationToken.None);
        writer.Dispose();

        seen.Count.ShouldBe(1200);
        also.Count.ShouldBe(1200);
        ledger.Dropped.ShouldBe(0);
        var totals = await db.WithDbAsync(d => d.UsageDailyTotals.Where(t => t.UserId == user).OrderBy(t => t.ApiKeyId).ToListAsync());
        totals.Count.ShouldBe(2, "web chat (no key) and key 7");
        var keyed = totals.Single(t => t.ApiKeyId == 7);
        keyed.Day.ShouldBe(day.Date);
        keyed.Source.ShouldBe(UsageSource.Gateway);
        keyed.Requests.ShouldBe(600);
        keyed.Errors.ShouldBe(1);
        keyed.PromptTokens.ShouldBe(600);
        keyed.CompletionTokens.ShouldBe(1200);
        keyed.TimeToFirstTokenMs.ShouldBe(100);
        keyed.TimeToFirstTokenCount.ShouldBe(2);
        keyed.ServerStarts.ShouldBe(1);
        keyed.DurationMs.ShouldBe(60_000);
        totals.Single(t => t.ApiKeyId is null).Requests.ShouldBe(600);
    }

    [Fact]
    public async Task RowsStillQueued_AtShutdown_AreWritten()
    {
        var user = await db.AddUserAsync("ledger-shutdown@example.com");
        var ledger = db.NewLedger();
        var writer = db.NewWriter(ledger);
        ledger.Record(db.Row(user, new DateTime(2026, 3, 10, 1, 0, 0, DateTimeKind.Utc)));
        ledger.Record(db.Row(user, new DateTime(2026, 3, 10, 2, 0, 0, DateTimeKind.Utc)));

        await writer.StartAsync(CancellationToken.None);
        await writer.StopAsync(CancellationToken.None);
        writer.Dispose();

        (await db.WithDbAsync(d => d.UsageRecords.CountAsync(r => r.UserId == user))).ShouldBe(2);
        ledger.Pending.ShouldBe(0);
    }

    [Fact]
    public async Task Retention_DeletesRowsOlderThanTheRetention_AndKeepsTheDailyTotals()
    {
        var user = await db.AddUserAsync("ledger-retention@example.com");
        var now = db.Clock.GetUtcNow().UtcDateTime;
        await db.WriteAsync(
            db.Row(user, now.AddDays(-91), prompt: 5, completion: 5),
            db.Row(user, now.AddDays(-89), prompt: 7, completion: 3));
        var totalsBefore = await TotalTokensAsync(user);

        var deletedNow = await db.RunRetentionAsync();
        db.Clock.Advance(TimeSpan.FromDays(2)); // a day later the second row is past 90 days too
        var deletedLater = await db.RunRetentionAsync();

        deletedNow.ShouldBeGreaterThanOrEqualTo(1);
        deletedLater.ShouldBeGreaterThanOrEqualTo(1);
        (await db.WithDbAsync(d => d.UsageRecords.CountAsync(r => r.UserId == user))).ShouldBe(0);
        totalsBefore.ShouldBe(20);
        (await TotalTokensAsync(user)).ShouldBe(20, "daily totals are kept for ever");
    }

    private Task<long> TotalTokensAsync(string user) =>
        db.WithDbAsync(d => d.UsageDailyTotals.Where(t => t.UserId == user).SumAsync(t => t.PromptTokens + t.CompletionTokens));

    private sealed class CountingObserver : IUsageObserver
    {
        private int _count;

        public int Count => _count;

        public void OnRecorded(UsageRecord row) => Interlocked.Increment(ref _count);
    }
}
