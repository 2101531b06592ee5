using System.Text.Json.Nodes;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Core.Gateway;

/// <summary>
/// The entries of <c>/v1/models</c>: one per name a client may use (a profile's name and each gateway name) of every
/// profile the gateway can reach (it starts on demand, or its server runs), sorted by id. Capabilities come from the
/// model's files, the context from the profile (or the model's window).
/// </summary>
public sealed class GatewayModelCatalog(GatewayRouter router, IServerDirectory servers, ProfileModelResolver models)
{
    public async Task<IReadOnlyList<JsonObject>> ListAsync(CancellationToken cancellationToken)
    {
        var entries = new List<JsonObject>();
        foreach (var profile in await router.ProfilesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!profile.StartOnDemand && servers.Find(profile.Id) is not { IsActive: true })
            {
                continue;
            }

            foreach (var name in GatewayNames.Parse(profile.GatewayNames).Prepend(profile.Name))
            {
                entries.Add(await DescribeAsync(profile, name, cancellationToken).ConfigureAwait(false));
            }
        }

        return entries.OrderBy(e => (string)e["id"]!, StringComparer.Ordinal).ToList();
    }

    public async Task<JsonObject> DescribeAsync(Profile profile, string id, CancellationToken cancellationToken)
    {
        var model = await models.ResolveAsync(profile.ModelRef, cancellationToken).ConfigureAwait(false);
        var capabilities = ChatModelCapabilities.FromCharacteristics(model.Characteristics);
        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "model",
            ["created"] = profile.CreatedAt.ToUnixTimeSeconds(),
            ["owned_by"] = "mlx-manager",
            ["profile"] = profile.Name,
            ["model"] = profile.ModelRef,
            ["status"] = StatusOf(servers.Find(profile.Id)),
            ["context_length"] = profile.ContextLength ?? model.Characteristics?.Context?.Tokens,
            ["capabilities"] = new JsonObject
            {
                ["tools"] = capabilities.Tools,
                ["vision"] = capabilities.Vision,
                ["thinking"] = capabilities.Thinking,
            },
        };
    }

    private static string StatusOf(ServerSnapshot? server) => server?.State switch
    {
        ServerState.Ready => "loaded",
        ServerState.Starting or ServerState.Loading => "loading",
        ServerState.Failed => "failed",
        _ => "unloaded",
    };
}
