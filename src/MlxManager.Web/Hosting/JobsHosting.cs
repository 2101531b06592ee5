using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.Dashboard;
using Hangfire.States;
using Hangfire.Storage.SQLite;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using MlxManager.Core.Data;
using MlxManager.Core.Discovery.Jobs;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Hosting;

/// <summary>Settings under <c>MlxManager:Jobs</c>.</summary>
public sealed class JobOptions
{
    public const string Section = "MlxManager:Jobs";

    /// <summary>Jobs that run at once on the general server (detections, the downloads' recovery; downloads have a server of their own). Each worker polls the queues.</summary>
    public int WorkerCount { get; set; } = 4;

    /// <summary>How often idle workers look for new jobs; short so a click starts work within a second.</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a fetched job stays invisible to other workers before the SQLite storage hands it out
    /// again. That storage has no heartbeat, so this must exceed the longest job (a download of a large
    /// model on a slow line can take hours), or a running job would be started a second time. Jobs left
    /// running by a previous process are requeued at start-up instead (see <see cref="JobsHosting"/>).
    /// </summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromHours(12);
}

/// <summary>
/// Hangfire with SQLite storage in <c>&lt;data&gt;/jobs.db</c> and a general server inside this process, serving the
/// <c>default</c> and <see cref="ModelDetectionJob.HangfireQueue"/> queues (downloads have their own server, see
/// <see cref="DownloadsHosting"/>).
/// The <see cref="JobStorage"/> and <see cref="JobActivator"/> are services of this host, never the
/// <c>JobStorage.Current</c>/<c>JobActivator.Current</c> statics: several hosts can run in one process
/// (the tests do), each with its own storage and services. Inject <see cref="IBackgroundJobClient"/>.
/// </summary>
public static partial class JobsHosting
{
    /// <summary>Path of the dashboard.</summary>
    public const string DashboardPath = "/admin/jobs";

    public static WebApplicationBuilder AddJobs(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<JobOptions>().BindConfiguration(JobOptions.Section);

        // Registered before AddHangfire, whose TryAdd would otherwise map them to the statics.
        services.AddSingleton<JobStorage>(CreateStorage);
        services.AddSingleton<JobActivator>(provider => new AspNetCoreJobActivator(provider.GetRequiredService<IServiceScopeFactory>()));
        services.AddSingleton(provider => HangfireLogRouting.Register(provider.GetRequiredService<ILoggerFactory>()));

        // Before every Hangfire server (hosted services start in registration order): no worker runs yet.
        services.AddStartupWork<JobsPreparation>();
        services.AddHangfire((provider, configuration) =>
        {
            provider.GetRequiredService<HangfireLogRouting.Registration>();
            configuration
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseLogProvider(HangfireLogRouting.Instance);
        });
        services.AddHangfireServer((provider, server) =>
        {
            var options = provider.GetRequiredService<IOptions<JobOptions>>().Value;
            server.WorkerCount = options.WorkerCount;
            server.Queues = [EnqueuedState.DefaultQueue, ModelDetectionJob.HangfireQueue];
            server.SchedulePollingInterval = TimeSpan.FromSeconds(5);
            server.ShutdownTimeout = TimeSpan.FromSeconds(10);
            server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
        });
        return builder;
    }

    /// <summary>
    /// Registers a recurring job, scheduled (and run once) at every start by <paramref name="schedule"/> while jobs.db is
    /// prepared, before any Hangfire server starts.
    /// </summary>
    public static IServiceCollection AddRecurringJob(this IServiceCollection services, Action<IRecurringJobManager> schedule)
    {
        services.AddSingleton(new RecurringJobSchedule(schedule));
        return services;
    }

    /// <summary>
    /// Starts preparing jobs.db on a pool thread now (called right after the data-folder lock is taken): opening the
    /// storage creates or upgrades its tables, and the jobs of a previous run are requeued and the recurring jobs
    /// scheduled, about half a second of a start on the main thread before; the first hosted service of the jobs
    /// awaits it before any Hangfire server starts.
    /// </summary>
    public static WebApplication StartPreparingJobs(this WebApplication app) => app.StartEarly<JobsPreparation>();

    /// <summary>Maps the Hangfire dashboard at <see cref="DashboardPath"/> for admins only.</summary>
    public static WebApplication MapJobsDashboard(this WebApplication app)
    {
        app.MapHangfireDashboard(DashboardPath, new DashboardOptions
            {
                AppPath = "/",
                DashboardTitle = "MLX Manager jobs",
                DisplayStorageConnectionString = false,
                Authorization = [],
                AsyncAuthorization = [new AdminDashboardAuthorization()],
            }, app.Services.GetRequiredService<JobStorage>())
            .RequireAuthorization(AccountPolicies.Admin);
        return app;
    }

    private static SQLiteStorage CreateStorage(IServiceProvider provider)
    {
        provider.GetRequiredService<IGlobalConfiguration>(); // installs the log provider before the storage logs
        provider.GetRequiredService<DataFolderLock>();
        var dataDirectory = provider.GetRequiredService<DataDirectory>();
        var options = provider.GetRequiredService<IOptions<JobOptions>>().Value;
        return new SQLiteStorage(dataDirectory.JobsDatabasePath, new SQLiteStorageOptions
        {
            QueuePollInterval = options.QueuePollInterval,
            InvisibilityTimeout = options.InvisibilityTimeout,
            JournalMode = SQLiteStorageOptions.JournalModes.WAL,
        });
    }

    /// <summary>A recurring job's registration (see <see cref="AddRecurringJob"/>).</summary>
    private sealed record RecurringJobSchedule(Action<IRecurringJobManager> Schedule);

    /// <summary>The one preparation of jobs.db in this host.</summary>
    private sealed partial class JobsPreparation(IServiceProvider services, ILogger<JobsPreparation> logger) : StartupWork
    {
        // The storage and clients are resolved here, on the pool thread, too: creating the storage opens jobs.db.
        protected override Task RunAsync()
        {
            var requeued = RequeueJobsOfPreviousRun(services.GetRequiredService<JobStorage>(), services.GetRequiredService<IBackgroundJobClient>());
            if (requeued > 0)
            {
                LogRequeued(requeued);
            }

            var recurringJobs = services.GetRequiredService<IRecurringJobManager>();
            foreach (var schedule in services.GetServices<RecurringJobSchedule>())
            {
                schedule.Schedule(recurringJobs);
            }

            return Task.CompletedTask;
        }

        /// <summary>
        /// This process holds the data-folder lock, so a job still fetched from a queue was being run by a process that
        /// has stopped (crash, kill). This storage has no heartbeat: without this such a job would wait
        /// <see cref="JobOptions.InvisibilityTimeout"/> (hours) before running again, and downloads must resume right
        /// after a restart. Each one still "processing" (or fetched before it could be marked so) goes back to its queue
        /// through Hangfire's own state change (no SQL into the storage's tables); its stale queue entry is dropped by
        /// the worker that fetches it once it is visible again, when the job is no longer in a state to run. A job a
        /// clean shutdown gave back is not fetched any more.
        /// </summary>
        private static int RequeueJobsOfPreviousRun(JobStorage storage, IBackgroundJobClient jobs)
        {
            var monitoring = storage.GetMonitoringApi();
            using var connection = storage.GetConnection();
            var requeued = 0;
            foreach (var queue in monitoring.Queues())
            {
                foreach (var (jobId, _) in monitoring.FetchedJobs(queue.Name, 0, int.MaxValue))
                {
                    var state = connection.GetJobData(jobId)?.State;
                    if ((state == EnqueuedState.StateName || state == ProcessingState.StateName)
                        && jobs.ChangeState(jobId, new EnqueuedState { Reason = "Left running by a previous run of the app" }, state))
                    {
                        requeued++;
                    }
                }
            }

            return requeued;
        }

        [LoggerMessage(Level = LogLevel.Information, Message = "Requeued {Count} job(s) left running by a previous run; they start again now")]
        private partial void LogRequeued(int count);
    }

    /// <summary>The dashboard asks the app's own authorization (the <see cref="AccountPolicies.Admin"/> policy).</summary>
    private sealed class AdminDashboardAuthorization : IDashboardAsyncAuthorizationFilter
    {
        public async Task<bool> AuthorizeAsync(DashboardContext context)
        {
            var http = context.GetHttpContext();
            var authorization = http.RequestServices.GetRequiredService<IAuthorizationService>();
            return await authorization.IsAdminAsync(http.User);
        }
    }
}
