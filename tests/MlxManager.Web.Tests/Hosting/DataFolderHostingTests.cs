using Hangfire;
using Hangfire.Storage.SQLite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MlxManager.Core.Data;
using MlxManager.Web.Hosting;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Hosting;

public sealed class DataFolderHostingTests
{
    [Fact]
    public async Task Start_CreatesDatabasesLogsAndKeysInTheDataFolder()
    {
        await using var app = new MlxManagerFactory();

        var dataDirectory = app.Services.GetRequiredService<DataDirectory>();

        dataDirectory.Root.ShouldBe(app.DataFolder.Path);
        File.Exists(Path.Combine(app.DataFolder.Path, "app.db")).ShouldBeTrue();
        File.Exists(Path.Combine(app.DataFolder.Path, "jobs.db")).ShouldBeTrue();
        Directory.Exists(Path.Combine(app.DataFolder.Path, "logs")).ShouldBeTrue();
        Directory.Exists(Path.Combine(app.DataFolder.Path, "keys", "data-protection")).ShouldBeTrue();
        Directory.EnumerateFiles(Path.Combine(app.DataFolder.Path, "keys", "data-protection")).ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Start_AppliesMigrationsAndUsesWalMode()
    {
        await using var app = new MlxManagerFactory();

        await app.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            (await db.Database.GetPendingMigrationsAsync()).ShouldBeEmpty();
            (await db.Database.GetAppliedMigrationsAsync()).ShouldNotBeEmpty();
            (await SqliteDatabase.JournalModeAsync(db)).ShouldBe("wal");
            return true;
        });
        using var jobs = new SQLite.SQLiteConnection(Path.Combine(app.DataFolder.Path, "jobs.db"));
        jobs.ExecuteScalar<string>("PRAGMA journal_mode;").ShouldBe("wal");
    }

    [Fact]
    public async Task JobStorage_PollsEverySecondAndKeepsJobsInvisibleFor12Hours()
    {
        await using var app = new MlxManagerFactory();

        var options = app.Services.GetRequiredService<IOptions<JobOptions>>().Value;

        app.Services.GetRequiredService<JobStorage>().ShouldBeOfType<SQLiteStorage>();
        options.QueuePollInterval.ShouldBe(TimeSpan.FromSeconds(1));
        options.InvisibilityTimeout.ShouldBe(TimeSpan.FromHours(12));
    }

    [Fact]
    public async Task FeatureSettings_BindFromMlxManagerSections()
    {
        await using var app = new MlxManagerFactory();
        app.Settings["MlxManager:Jobs:WorkerCount"] = "2";

        app.Services.GetRequiredService<IOptions<JobOptions>>().Value.WorkerCount.ShouldBe(2);
    }

    [Fact]
    public void SecondProcessOnTheSameFolder_StopsWithAClearMessage()
    {
        using var folder = new TestDataFolder();
        var dataDirectory = new DataDirectory(folder.Path);
        using var first = new DataFolderLock(dataDirectory, NullLogger<DataFolderLock>.Instance);

        var refused = Should.Throw<InvalidOperationException>(() => new DataFolderLock(dataDirectory, NullLogger<DataFolderLock>.Instance));

        refused.Message.ShouldContain("in use by another MLX Manager");
        refused.Message.ShouldContain("--data");
    }

    [Fact]
    public void Urls_DefaultToLoopbackPort10240()
    {
        var builder = WebApplication.CreateBuilder([]);

        builder.AddDataFolder();

        builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey).ShouldBe("http://127.0.0.1:10240");
    }

    [Fact]
    public void Urls_FromMlxManagerSetting_WhenNoUrlsGiven()
    {
        var builder = WebApplication.CreateBuilder(["--MlxManager:Urls=http://0.0.0.0:8080"]);

        builder.AddDataFolder();

        builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey).ShouldBe("http://0.0.0.0:8080");
    }

    [Fact]
    public void Urls_FromUrlsArgument_AreKept()
    {
        var builder = WebApplication.CreateBuilder(["--urls", "http://127.0.0.1:5999"]);

        builder.AddDataFolder();

        builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey).ShouldBe("http://127.0.0.1:5999");
    }

    [Fact]
    public void WebRoot_IsTheWwwrootCopiedNextToTheBinaries()
    {
        var builder = WebApplication.CreateBuilder([]);

        builder.AddDataFolder();

        builder.Environment.WebRootPath.ShouldBe(Path.Combine(AppContext.BaseDirectory, "wwwroot"));
        File.Exists(Path.Combine(builder.Environment.WebRootPath, "lib", "htmx", "htmx.min.js")).ShouldBeTrue();
        builder.Environment.WebRootFileProvider.GetFileInfo("css/site.css").Exists.ShouldBeTrue();
    }
}
