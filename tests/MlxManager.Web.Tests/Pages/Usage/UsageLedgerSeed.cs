using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Data;
using MlxManager.Core.Usage;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Pages.Usage;

/// <summary>Records ledger rows through the app's own <see cref="UsageLedger"/> and waits until its writer stored them.</summary>
public static class UsageLedgerSeed
{
    public static UsageRecord Row(string userId, string model, int prompt, int completion, DateTime? at = null, UsageSource source = UsageSource.Chat, int? keyId = null, int? ttftMs = 120) => new()
    {
        UserId = userId,
        StartedAtUtc = at ?? DateTime.UtcNow,
        Source = source,
        ApiKeyId = keyId,
        ProfileId = 1,
        ProfileName = model + " profile",
        Model = model,
        PromptTokens = prompt,
        CompletionTokens = completion,
        TimeToFirstTokenMs = ttftMs,
        DurationMs = 900,
        QueueWaitMs = 10,
        Outcome = UsageOutcome.Ok,
    };

    public static async Task RecordAsync(MlxManagerFactory app, params UsageRecord[] rows)
    {
        var before = await CountAsync(app);
        var ledger = app.Services.GetRequiredService<UsageLedger>();
        foreach (var row in rows)
        {
            ledger.Record(row);
        }

        await Eventually.WaitUntilAsync(async () => await CountAsync(app) >= before + rows.Length, TimeSpan.FromSeconds(30), "the ledger's writer stores the rows");
    }

    private static Task<int> CountAsync(MlxManagerFactory app) =>
        app.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().UsageRecords.CountAsync());
}
