using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Data;
using MlxManager.Core.Platform;

namespace MlxManager.Core.Accounts.Keys;

/// <summary>
/// Last use of each key, kept in memory on the request path and written to the database by
/// <see cref="ApiKeyUseWriter"/> at most once a minute, so authenticating with a key costs no write.
/// Pages merge <see cref="Latest"/> over the stored values, so they show uses not yet written.
/// </summary>
public sealed class ApiKeyUse
{
    private readonly ConcurrentDictionary<int, (DateTime AtUtc, string From)> _unwritten = new();

    public void Record(int keyId, DateTime atUtc, string from) => _unwritten[keyId] = (atUtc, from);

    /// <summary>The latest use not yet written, if any.</summary>
    public (DateTime AtUtc, string From)? Latest(int keyId) =>
        _unwritten.TryGetValue(keyId, out var use) ? use : null;

    /// <summary>Writes the uses recorded so far (one statement per key) and forgets the written ones.</summary>
    public async Task WriteAsync(AppDbContext db, CancellationToken cancellationToken)
    {
        foreach (var (keyId, use) in _unwritten.ToArray())
        {
            await db.ApiKeys.Where(key => key.Id == keyId)
                .ExecuteUpdateAsync(set => set.SetProperty(key => key.LastUsedAtUtc, use.AtUtc).SetProperty(key => key.LastUsedFrom, use.From), cancellationToken);
            // A newer use recorded meanwhile stays for the next round.
            _unwritten.TryRemove(new KeyValuePair<int, (DateTime, string)>(keyId, use));
        }
    }
}

/// <summary>Writes <see cref="ApiKeyUse"/> once a minute and at shutdown, off the request path.</summary>
public sealed partial class ApiKeyUseWriter(ApiKeyUse uses, IServiceScopeFactory scopes, TimeProvider time, ILogger<ApiKeyUseWriter> logger) : DrainingBackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await WriteAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StopAsync writes what is left.
        }
    }

    protected override Task DrainAsync(CancellationToken cancellationToken) => WriteAsync(cancellationToken);

    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await uses.WriteAsync(scope.ServiceProvider.GetRequiredService<AppDbContext>(), cancellationToken);
        }
        catch (Exception exception) when (exception is DbUpdateException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
        {
            LogWriteFailed(exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record when API keys were last used; trying again in a minute")]
    private partial void LogWriteFailed(Exception exception);
}
