using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace MlxManager.HubEmulator;

/// <summary>The emulator's own endpoints on the Hub listener, for tests driving it from another process:
/// <c>GET|POST /_emulator/faults</c>, <c>POST /_emulator/reset</c>, <c>GET|DELETE /_emulator/requests</c>.
/// They are neither faulted nor recorded.</summary>
internal static class ControlApi
{
    public static void Map(IEndpointRouteBuilder app, HubSite site)
    {
        app.MapGet("/_emulator/faults", (HttpContext c) => HubErrors.WriteJsonAsync(c, site.Faults.Current));
        app.MapPost("/_emulator/faults", async (HttpContext c) =>
        {
            FaultSettings? settings;
            try
            {
                settings = await JsonSerializer.DeserializeAsync<FaultSettings>(c.Request.Body, HubSite.Json, c.RequestAborted);
            }
            catch (JsonException e)
            {
                await HubErrors.BadRequestAsync(c, $"Fault settings are not valid: {e.Message}");
                return;
            }
            site.Faults.Set(settings ?? FaultSettings.None);
            await HubErrors.WriteJsonAsync(c, site.Faults.Current);
        });
        app.MapPost("/_emulator/reset", (HttpContext c) =>
        {
            site.Faults.Reset();
            site.Log.Clear();
            return HubErrors.WriteJsonAsync(c, site.Faults.Current);
        });
        app.MapGet("/_emulator/requests", (HttpContext c) => HubErrors.WriteJsonAsync(c, site.Log.Entries));
        app.MapDelete("/_emulator/requests", (HttpContext c) =>
        {
            site.Log.Clear();
            c.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });
    }
}
