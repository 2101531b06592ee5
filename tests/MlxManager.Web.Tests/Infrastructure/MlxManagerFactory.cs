using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Accounts;
using MlxManager.Core.Data;

namespace MlxManager.Web.Tests.Infrastructure;

/// <summary>
/// The real app on a temp data folder of its own (real SQLite files, real Hangfire server).
/// Use one per test class (IClassFixture) or per test when the test needs an empty database.
/// Set <see cref="Settings"/> and <see cref="ConfigureServices"/> before the first request.
/// </summary>
public class MlxManagerFactory : WebApplicationFactory<MlxManager.Web.WebAppAssembly>
{
    private readonly bool _ownsFolder;

    public MlxManagerFactory()
        : this(new TestDataFolder(), ownsFolder: true)
    {
    }

    /// <summary>A host on an existing data folder (e.g. to restart the app on the same data).</summary>
    public static MlxManagerFactory OnFolder(TestDataFolder dataFolder) => new(dataFolder, ownsFolder: false);

    private MlxManagerFactory(TestDataFolder dataFolder, bool ownsFolder)
    {
        DataFolder = dataFolder;
        _ownsFolder = ownsFolder;
    }

    public TestDataFolder DataFolder { get; }

    /// <summary>Extra configuration, as appsettings would give it (keys like <c>MlxManager:Jobs:WorkerCount</c>).</summary>
    public Dictionary<string, string?> Settings { get; } = new()
    {
        // Tests sign in many times from one address; the limit has tests of its own.
        ["MlxManager:RateLimits:SignIn:PermitLimit"] = "10000",
    };

    /// <summary>Replacements or additions to the app's services.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }

    /// <summary>Every log entry the host wrote.</summary>
    public LogSink Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // "data" is what --data sets: it wins over MLXMANAGER_DATA a developer may have exported.
        builder.UseSetting(DataDirectory.CommandLineKey, DataFolder.Path);
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging => logging.AddProvider(new SinkLoggerProvider(Logs)));
        builder.ConfigureTestServices(services => ConfigureServices?.Invoke(services));
    }

    /// <summary>
    /// Points the app at a Hub (a HubEmulator's address, or a closed port) and a Hugging Face cache of the test's own,
    /// with no token file and online unless <paramref name="offline"/>: nothing of the developer's Hugging Face setup leaks in.
    /// </summary>
    public void UseHuggingFace(string endpoint, string hubCache, bool offline = false)
    {
        Settings["MlxManager:HuggingFace:Endpoint"] = endpoint;
        Settings["MlxManager:HuggingFace:HubCache"] = hubCache;
        Settings["MlxManager:HuggingFace:TokenPath"] = Path.Combine(DataFolder.Path, "no-token-file");
        Settings["MlxManager:HuggingFace:Offline"] = offline ? "true" : "false";
    }

    /// <summary>A client that keeps cookies and does not follow redirects.</summary>
    public AppClient CreateAppClient() =>
        new(CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true }));

    /// <summary>Creates an account straight in the database (first one through the real registration rules).</summary>
    public async Task<AppUser> CreateUserAsync(string email, string password = TestPasswords.Default, UserStatus status = UserStatus.Active, bool admin = false)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = new AppUser { UserName = email, Email = email, Status = status, CreatedAtUtc = DateTime.UtcNow };
        var created = await users.CreateAsync(user, password);
        created.Succeeded.ShouldBeTrue(string.Join("; ", created.Errors.Select(error => error.Description)));
        if (admin)
        {
            (await users.AddToRoleAsync(user, Roles.Admin)).Succeeded.ShouldBeTrue();
        }
        return user;
    }

    /// <summary>Runs <paramref name="action"/> with a scoped service.</summary>
    public async Task<T> WithScopeAsync<T>(Func<IServiceProvider, Task<T>> action)
    {
        await using var scope = Services.CreateAsyncScope();
        return await action(scope.ServiceProvider);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownsFolder)
        {
            DataFolder.Dispose();
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_ownsFolder)
        {
            DataFolder.Dispose();
        }
        GC.SuppressFinalize(this);
    }
}

public static class TestPasswords
{
    public const string Default = "correct horse battery";
}
