using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Data;
using MlxManager.Core.Profiles;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Servers.Infrastructure;

/// <summary>Seeds profiles straight into the app's database.</summary>
public static class SeedProfiles
{
    public static async Task<Profile> AddAsync(MlxManagerFactory app, string name, string model, string engine = "mlx_lm.server", Action<Profile>? configure = null)
    {
        var now = DateTimeOffset.UtcNow;
        var profile = new Profile
        {
            Name = name,
            ModelRef = model,
            Engine = engine,
            Port = FreePort(),
            EnvironmentVariables = EngineWorld.FastEngine,
            CreatedAt = now,
            UpdatedAt = now,
        };
        configure?.Invoke(profile);
        return await app.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            db.Profiles.Add(profile);
            await db.SaveChangesAsync();
            return profile;
        });
    }

    public static Task<Profile?> FindAsync(MlxManagerFactory app, string name) =>
        app.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().Profiles.AsNoTracking().FirstOrDefaultAsync(p => p.Name == name));

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
