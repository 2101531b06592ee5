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
        builder.Services.AddStartupWork<AppDatabasePreparation>();
        return builder;
    }

    /// <summary>
    /// Starts preparing app.db on a pool thread now (called right after the data-folder lock is taken), so that
    /// building the EF model and migrating run on the second core while the request pipeline is built; the hosted
    /// service still awaits it before any later service starts or a request is served.
    /// </summary>
    public static WebApplication StartPreparingDatabase(this WebApplication app) => app.StartEarly<AppDatabasePreparation>();

    /// <summary>
    /// The one preparation of app.db (WAL, migrations) in this host: most of a fresh start's CPU is building the EF
    /// model and applying the migrations, and it needs nothing but the data folder.
    /// </summary>
    private sealed partial class AppDatabasePreparation(IServiceProvider services, ILogger<AppDatabasePreparation> logger) : StartupWork
    {
        protected override async Task RunAsync()
        {
            services.GetRequiredService<DataFolderLock>();
            await using var scope = services.CreateAsyncScope();
            await SqliteDatabase.PrepareAsync(scope.ServiceProvider.GetRequiredService<AppDbContext>());
            LogReady(services.GetRequiredService<DataDirectory>().AppDatabasePath);
        }

        [LoggerMessage(Level = LogLevel.Information, Message = "App database ready at {Path}")]
        private partial void LogReady(string path);
    }
}
