using System.Collections.Concurrent;
using System.Net;
using Hangfire;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Hosting;

/// <summary>Records which host ran a job; registered once per test host.</summary>
public sealed class JobRecorder
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _runs = new();

    public void Record(string marker) => Completion(marker).TrySetResult();

    public bool HasRun(string marker) => _runs.TryGetValue(marker, out var run) && run.Task.IsCompleted;

    public Task WaitAsync(string marker, TimeSpan timeout) => Completion(marker).Task.WaitAsync(timeout);

    private TaskCompletionSource Completion(string marker) =>
        _runs.GetOrAdd(marker, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>A Hangfire job as later features write them: a plain class, constructor injection, one method.</summary>
public sealed class RecordingJob(JobRecorder recorder)
{
    public void Run(string marker) => recorder.Record(marker);
}

public sealed class JobsHostingTests
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(20);

    private static MlxManagerFactory HostWithRecorder(JobRecorder recorder, TestDataFolder? folder = null)
    {
        var app = folder is null ? new MlxManagerFactory() : MlxManagerFactory.OnFolder(folder);
        app.ConfigureServices = services => services.Replace(ServiceDescriptor.Singleton(recorder));
        return app;
    }

    [Fact]
    public async Task EnqueuedJob_RunsOnTheInProcessServer()
    {
        var recorder = new JobRecorder();
        await using var app = HostWithRecorder(recorder);

        app.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<RecordingJob>(job => job.Run("hello"));

        await recorder.WaitAsync("hello", JobTimeout);
    }

    [Fact]
    public async Task TwoHostsInOneProcess_EachRunOnlyTheirOwnJobsFromTheirOwnStorage()
    {
        var recorderA = new JobRecorder();
        var recorderB = new JobRecorder();
        await using var a = HostWithRecorder(recorderA);
        await using var b = HostWithRecorder(recorderB);
        var storageA = (SQLiteStorage)a.Services.GetRequiredService<JobStorage>();
        var storageB = (SQLiteStorage)b.Services.GetRequiredService<JobStorage>();

        a.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<RecordingJob>(job => job.Run("from-a"));
        b.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<RecordingJob>(job => job.Run("from-b"));

        await recorderA.WaitAsync("from-a", JobTimeout);
        await recorderB.WaitAsync("from-b", JobTimeout);
        recorderA.HasRun("from-b").ShouldBeFalse();
        recorderB.HasRun("from-a").ShouldBeFalse();
        storageA.ShouldNotBeSameAs(storageB);
        storageA.ToString().ShouldContain(Path.Combine(a.DataFolder.Path, "jobs.db"));
        storageB.ToString().ShouldContain(Path.Combine(b.DataFolder.Path, "jobs.db"));
        await Eventually.WaitUntilAsync(() => RecordingJobsSucceeded(storageA) == 1, JobTimeout, "host A ran its job");
        await Eventually.WaitUntilAsync(() => RecordingJobsSucceeded(storageB) == 1, JobTimeout, "host B ran its job");
    }

    private static int RecordingJobsSucceeded(JobStorage storage) =>
        storage.GetMonitoringApi().SucceededJobs(0, 1000).Count(j => j.Value?.Job?.Type == typeof(RecordingJob));

    [Fact]
    public async Task JobLeftRunningByAPreviousProcess_RunsAgainRightAfterStart()
    {
        using var folder = new TestDataFolder();
        using (var previous = new SQLiteStorage(Path.Combine(folder.Path, "jobs.db"), new SQLiteStorageOptions()))
        {
            new BackgroundJobClient(previous).Enqueue<RecordingJob>(job => job.Run("interrupted"));
            using var connection = previous.GetConnection();
            // A worker takes the job and the process dies before acknowledging it.
            connection.FetchNextJob(["default"], CancellationToken.None).ShouldNotBeNull();
        }

        var recorder = new JobRecorder();
        await using var app = HostWithRecorder(recorder, folder);
        app.Services.GetRequiredService<JobStorage>();

        await recorder.WaitAsync("interrupted", JobTimeout);
    }

    [Fact]
    public async Task Dashboard_AnonymousIsSentToLogin_NonAdminGets403_AdminSeesIt()
    {
        await using var app = new MlxManagerFactory();
        await app.CreateUserAsync("admin@example.com", admin: true);
        await app.CreateUserAsync("plain@example.com");
        using var anonymous = app.CreateAppClient();
        using var plain = app.CreateAppClient();
        using var admin = app.CreateAppClient();
        await plain.SignInAsync("plain@example.com");
        await admin.SignInAsync("admin@example.com");

        (await anonymous.GetAsync("/admin/jobs")).ShouldRedirectToLogin("/admin/jobs");
        (await anonymous.GetAsync("/admin/jobs/jobs/succeeded")).ShouldRedirectToLogin("/admin/jobs/jobs/succeeded");
        (await plain.GetAsync("/admin/jobs")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var dashboard = await admin.GetAsync("/admin/jobs");
        dashboard.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await dashboard.Content.ReadAsStringAsync()).ShouldContain("MLX Manager jobs");
    }
}
