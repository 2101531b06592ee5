using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace MlxManager.Core.Data;

/// <summary>Connection strings and start-up steps for the app's SQLite database.</summary>
public static class SqliteDatabase
{
    /// <summary>
    /// Connection string for <paramref name="path"/>. The default timeout also bounds how long a
    /// writer waits for SQLite's write lock (Microsoft.Data.Sqlite retries while the file is busy).
    /// </summary>
    public static string ConnectionString(string path) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        DefaultTimeout = 30,
        Pooling = true,
    }.ToString();

    /// <summary>
    /// Switches the database to write-ahead logging (kept in the file, so once is enough) and applies
    /// pending migrations. WAL lets pages read while a background job writes.
    /// </summary>
    public static async Task PrepareAsync(AppDbContext db, CancellationToken cancellationToken = default)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            // Most starts find nothing to apply: asking costs one query, migrating takes EF's migration lock first.
            if ((await db.Database.GetPendingMigrationsAsync(cancellationToken)).Any())
            {
                await db.Database.MigrateAsync(cancellationToken);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The journal mode SQLite reports for the database (e.g. <c>wal</c>).</summary>
    public static async Task<string> JournalModeAsync(AppDbContext db, CancellationToken cancellationToken = default)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode;";
            return Convert.ToString(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) ?? "";
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
