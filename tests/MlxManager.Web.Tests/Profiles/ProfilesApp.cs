using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Servers.Infrastructure;

namespace MlxManager.Web.Tests.Profiles;

/// <summary>The app pointed at the emulated engines and the fixture HF cache.</summary>
public sealed class ProfilesApp : MlxManagerFactory
{
    public ProfilesApp() => EngineWorld.Instance.Configure(this);

    private int _users;

    /// <summary>A signed-in client of a new account (admin or not).</summary>
    public async Task<AppClient> SignedInAsync(bool admin = true)
    {
        var email = $"{(admin ? "admin" : "user")}-{Interlocked.Increment(ref _users)}@example.com";
        await CreateUserAsync(email, admin: admin);
        var client = CreateAppClient();
        await client.SignInAsync(email);
        return client;
    }
}
