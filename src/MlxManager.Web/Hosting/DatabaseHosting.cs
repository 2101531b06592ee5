using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Data;

namespace MlxManager.Web.Hosting;

/// <summary>The app database: <see cref="AppDbContext"/> on <c>&lt;data&gt;/app.db</c>.</summary>
public static partial class DatabaseHosting
{
    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        builder.Services.AddDbContext<AppDbContext>((services, options) =>
            options.UseSqlite(SqliteDatabase.ConnectionString(services.GetRequiredService<DataDirectory>().AppDatabasePath)));

        // Hosted services start in registration order, and all of them before Kestrel accepts
        // requests: registering this before AddJobs() means no page or job sees an old schema.
        builder.Services.AddHostedService<AppDatabaseStartup>();
        return builder;
    }

    /// <summary>Takes the data-folder lock, switches app.db to WAL and applies migrations.</summary>
    private sealed partial class AppDatabaseStartup(IServiceProvider services, ILogger<AppDatabaseStartup> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            services.GetRequiredService<DataFolderLock>();
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await SqliteDatabase.PrepareAsync(db, cancellationToken);
            LogReady(services.GetRequiredService<DataDirectory>().AppDatabasePath);
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Information, Message = "App database ready at {Path}")]
        private partial void LogReady(string path);
    }
}
