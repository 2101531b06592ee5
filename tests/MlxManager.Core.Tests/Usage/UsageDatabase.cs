using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MlxManager.Core.Accounts;
using MlxManager.Core.Data;
using MlxManager.Core.Usage;

namespace MlxManager.Core.Tests.Usage;

/// <summary>A real, migrated app.db in a temp folder with the ledger's parts around it and a clock moved by hand.</summary>
public sealed class UsageDatabase : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlxm-usage-").FullName;
    private ServiceProvider _services = null!;

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero));

    /// <summary>Moves the clock (shared by a class's tests, so never set backwards) to <paramref name="hour"/>:00 UTC of a later day.</summary>
    public DateTime MoveToALaterDayAt(int hour)
    {
        var next = new DateTimeOffset(Clock.GetUtcNow().UtcDateTime.Date.AddDays(1).AddHours(hour), TimeSpan.Zero);
        Clock.SetUtcNow(next);
        return next.UtcDateTime;
    }

    public IServiceScopeFactory Scopes => _services.GetRequiredService<IServiceScopeFactory>();

    public UsageOptions Options { get; } = new();

    public async Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<AppDbContext>(options => options.UseSqlite(SqliteDatabase.ConnectionString(Path.Combine(_folder, "app.db"))));
        _services = services.BuildServiceProvider();
        await using var scope = Scopes.CreateAsyncScope();
        await SqliteDatabase.PrepareAsync(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    /// <summary>Runs <paramref name="action"/> with a fresh context.</summary>
    public async Task<T> WithDbAsync<T>(Func<AppDbContext, Task<T>> action)
    {
        await using var scope = Scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    /// <summary>An account (quotas reference users).</summary>
    public Task<string> AddUserAsync(string email) => WithDbAsync(async db =>
    {
        var user = new AppUser { UserName = email, Email = email, NormalizedEmail = email.ToUpperInvariant(), NormalizedUserName = email.ToUpperInvariant() };
        db.Users.Add(user);
        await db.SaveChangesAsync();
        return user.Id;
    });

    public UsageLedger NewLedger(params IUsageObserver[] observers) => new(observers, NullLogger<UsageLedger>.Instance);

    public UsageLedgerWriter NewWriter(UsageLedger ledger) => new(ledger, Scopes, Clock, NullLogger<UsageLedgerWriter>.Instance);

    public UsageQuotas NewQuotas() => new(Scopes, Clock);

    public Task<int> RunRetentionAsync() => WithDbAsync(db =>
        new UsageRetention(db, Microsoft.Extensions.Options.Options.Create(Options), Clock, NullLogger<UsageRetention>.Instance).RunAsync(CancellationToken.None));

    /// <summary>Records <paramref name="rows"/> through a running writer and waits until they are in the database.</summary>
    public async Task WriteAsync(params UsageRecord[] rows)
    {
        var ledger = NewLedger();
        var writer = NewWriter(ledger);
        await writer.StartAsync(CancellationToken.None);
        foreach (var row in rows)
        {
            ledger.Record(row);
        }

        await writer.StopAsync(CancellationToken.None); // drains the queue
        writer.Dispose();
    }

    public UsageRecord Row(string userId, DateTime startedAtUtc, int prompt = 10, int completion = 20, int? apiKeyId = null, string model = "org/model") => new()
    {
        UserId = userId,
        StartedAtUtc = startedAtUtc,
        ApiKeyId = apiKeyId,
        Source = apiKeyId is null ? UsageSource.Chat : UsageSource.Gateway,
        ProfileName = "Profile",
        Model = model,
        PromptTokens = prompt,
        CompletionTokens = completion,
        DurationMs = 100,
    };

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}
