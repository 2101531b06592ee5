using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Data;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Core.Gateway;

/// <summary>The profile a request's <c>model</c> names.</summary>
/// <param name="Profile">The profile as saved now.</param>
/// <param name="RequestedName">What the client asked for (echoed by <c>/v1/models/{id}</c>).</param>
public sealed record GatewayRoute(Profile Profile, string RequestedName);

/// <summary>
/// Finds the profile a client means by <c>model</c>, in this order: a profile's name, one of its gateway names (both
/// unique across profiles, see <see cref="ProfileRules.CheckUniqueness"/>), then a model repo id (or folder) that profiles
/// serve. When several profiles serve that model the one marked "default for this model" wins; without one, a profile
/// whose server already runs (no second copy of a model is loaded), else the oldest profile — so the same request always
/// reaches the same profile. Profiles are read from the database at each request: edits apply at once.
/// </summary>
public sealed class GatewayRouter(IServiceScopeFactory scopes, IServerDirectory servers)
{
    /// <summary>The profile for <paramref name="model"/>; a 404 <c>model_not_found</c> naming it when there is none.</summary>
    public async Task<GatewayRoute> RouteAsync(string model, CancellationToken cancellationToken)
    {
        var profiles = await ProfilesAsync(cancellationToken).ConfigureAwait(false);
        return Find(profiles, model) is { } profile
            ? new GatewayRoute(profile, model)
            : throw GatewayException.ModelNotFound(model, profiles.Count == 0
                ? "No profile exists yet."
                : "Known models: " + string.Join(", ", profiles.Select(p => p.Name).Order(GatewayNames.Comparer)) + " (GET /v1/models lists every name).");
    }

    /// <summary>Every profile, oldest first.</summary>
    public async Task<IReadOnlyList<Profile>> ProfilesAsync(CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var profiles = await db.Profiles.AsNoTracking().ToListAsync(cancellationToken).ConfigureAwait(false);
        return profiles.OrderBy(p => p.Id).ToList();
    }

    private Profile? Find(IReadOnlyList<Profile> profiles, string model)
    {
        var name = model.Trim();
        var byName = profiles.FirstOrDefault(p => GatewayNames.Comparer.Equals(p.Name.Trim(), name))
            ?? profiles.FirstOrDefault(p => GatewayNames.Parse(p.GatewayNames).Contains(name, GatewayNames.Comparer));
        if (byName is not null)
        {
            return byName;
        }

        var serving = profiles.Where(p => GatewayNames.Comparer.Equals(p.ModelRef.Trim(), name)).ToList();
        return serving.FirstOrDefault(p => p.DefaultForModel)
            ?? serving.FirstOrDefault(p => servers.Find(p.Id) is { IsActive: true, State: not ServerState.Stopping })
            ?? serving.FirstOrDefault();
    }
}
