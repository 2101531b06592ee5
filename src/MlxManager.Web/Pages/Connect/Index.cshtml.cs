using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using MlxManager.Core.Gateway;
using MlxManager.Core.Servers;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Pages.Connect;

/// <summary>One name a client may send as <c>model</c>, as <c>/v1/models</c> lists it.</summary>
/// <param name="Id">The name (a profile's name or one of its gateway names).</param>
/// <param name="Profile">The profile it reaches.</param>
/// <param name="Model">The profile's model (repo id or folder).</param>
/// <param name="Status">loaded, loading, unloaded or failed.</param>
/// <param name="Capabilities">What the model can do, e.g. "tools, thinking".</param>
public sealed record ConnectModel(string Id, string Profile, string Model, string Status, string Capabilities)
{
    /// <summary>Reads one entry of <see cref="GatewayModelCatalog.ListAsync"/>.</summary>
    public static ConnectModel From(JsonObject entry)
    {
        var capabilities = entry["capabilities"] as JsonObject;
        var can = new[] { "tools", "vision", "thinking" }.Where(c => capabilities?[c]?.GetValue<bool>() == true);
        return new((string)entry["id"]!, (string)entry["profile"]!, (string?)entry["model"] ?? "", (string)entry["status"]!, string.Join(", ", can));
    }
}

/// <summary>
/// How to use the gateway from one's own tools: the base URL as this browser reached the manager, where to get a key,
/// and streaming examples for every model name <c>/v1/models</c> lists. No secret is ever put on the page.
/// </summary>
public sealed class IndexModel(GatewayModelCatalog catalog, IAuthorizationService authorization, IOptions<GatewayOptions> gateway) : PageModel
{
    /// <summary><c>scheme://host[:port][/path-base]/v1</c>: the scheme a known proxy forwarded, the host the browser used.</summary>
    public string BaseUrl { get; private set; } = "";

    public IReadOnlyList<ConnectModel> Models { get; private set; } = [];

    public bool IsAdmin { get; private set; }

    /// <summary>What happens to a server nobody uses, by the default idle timeout.</summary>
    public string IdleUnloadNote => gateway.Value.DefaultIdleTimeout switch
    {
        var never when never <= TimeSpan.Zero => "Servers stay loaded until an administrator stops them (unless a profile says to unload after idle).",
        var idle when idle.Ticks % TimeSpan.TicksPerMinute == 0 => $"A server unused for {(int)idle.TotalMinutes} min is unloaded again (unless its profile says otherwise).",
        var idle => $"A server unused for {Durations.Describe(idle)} is unloaded again (unless its profile says otherwise).",
    };

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        BaseUrl = $"{Request.Scheme}://{Request.Host}{Request.PathBase}/v1";
        Models = (await catalog.ListAsync(cancellationToken)).Select(ConnectModel.From).ToList();
        IsAdmin = await authorization.IsAdminAsync(User);
    }
}
