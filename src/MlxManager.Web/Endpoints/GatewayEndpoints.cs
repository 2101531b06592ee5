using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using MlxManager.Core.Gateway;
using MlxManager.Core.Usage;
using MlxManager.Web.Accounts;
using MlxManager.Web.Hosting;

namespace MlxManager.Web.Endpoints;

/// <summary>
/// The OpenAI-compatible gateway on the manager's own port: <c>POST /v1/chat/completions</c>, <c>POST /v1/completions</c>,
/// <c>GET /v1/models</c>, <c>GET /v1/models/{id}</c>. Bearer tokens only (see <see cref="GatewayHosting"/>); every error
/// is <c>{"error":{"message","type","code","param"}}</c>. A completion goes: route by <c>model</c>
/// (<see cref="GatewayRouter"/>) → a place in the profile's lane (<see cref="GatewayLanes"/>, 429 when its queue is full)
/// → a ready server (<see cref="GatewayStarter"/>, starting it on demand) → forwarded and relayed as it arrives
/// (<see cref="GatewayForwarder"/>). The client going away cancels every step, the upstream request included. Every
/// completion request, however it ends, becomes one usage-ledger row (<see cref="GatewayMeter"/>); the user's quota
/// (<see cref="UsageQuotas"/>) is checked once the request is routed.
/// </summary>
public static class GatewayEndpoints
{
    public static IEndpointRouteBuilder MapGatewayEndpoints(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1")
            .RequireAuthorization(GatewayHosting.ClientPolicy)
            .WithMetadata(new GatewayEndpointMetadata())
            .DisableAntiforgery()
            .ExcludeFromDescription();
        v1.MapPost("/chat/completions", (HttpContext http, GatewayServices services) => CompleteAsync(http, services, "v1/chat/completions"));
        v1.MapPost("/completions", (HttpContext http, GatewayServices services) => CompleteAsync(http, services, "v1/completions"));
        v1.MapGet("/models", ListModelsAsync);
        v1.MapGet("/models/{**id}", GetModelAsync);
        return app;
    }

    /// <summary>Writes <paramref name="error"/> in OpenAI's shape: as the response when nothing was sent yet, else as a last SSE event.</summary>
    public static async Task WriteErrorAsync(HttpContext http, GatewayException error)
    {
        var body = new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = error.Message, ["type"] = error.Type, ["code"] = error.Code, ["param"] = error.Param },
        };
        foreach (var (name, value) in error.Extra ?? [])
        {
            body[name] = value?.DeepClone();
        }

        var payload = body.ToJsonString();
        var response = http.Response;
        if (response.HasStarted)
        {
            await response.WriteAsync($"data: {payload}\n\n", http.RequestAborted);
            return;
        }

        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        if (error.RetryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (error.Status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }

        await response.WriteAsync(payload, http.RequestAborted);
    }

    private static async Task CompleteAsync(HttpContext http, GatewayServices services, string path)
    {
        var aborted = http.RequestAborted;
        var user = http.User;
        var userId = AccountClaims.UserId(user)!;
        var meter = services.Metering.Begin(userId, ApiKeyAuthentication.KeyIdOf(user));
        try
        {
            var body = await ReadBodyAsync(http.Request, aborted);
            var stream = body["stream"] is JsonValue value && value.GetValueKind() == JsonValueKind.True;
            var model = ModelOf(body);
            meter.Asked(body, model, stream);
            var route = await services.Router.RouteAsync(model, aborted);
            var profile = route.Profile;
            meter.Routed(profile);
            using var quota = services.Quotas.Admit(userId);
            if (quota.Refusal is { } refusal)
            {
                throw refusal.Kind == QuotaKind.TokensPerDay
                    ? GatewayException.DailyQuotaExceeded(refusal.Message, refusal.RetryAfter)
                    : GatewayException.ConcurrencyLimitExceeded(refusal.Message);
            }

            using var ticket = services.Lanes.Join(profile.Id, ApiKeyAuthentication.PriorityOf(user), new LaneUser(userId, UsageSource.Gateway));
            await ticket.WaitForTurnAsync(profile.Name, profile.MaxConcurrentRequests, services.Options.Value.MaxQueue, aborted);
            meter.Admitted();
            var server = await services.Starter.EnsureReadyAsync(profile, RequesterOf(user), waited => stream ? SendLoadingAsync(http, waited) : Task.CompletedTask, aborted);
            ticket.Forwarded(server.RunId);
            meter.Ready(server);
            using var upstream = await services.Forwarder.SendAsync(server, path, body, aborted);
            await RelayAsync(http, upstream, meter, aborted);
        }
        catch (GatewayException error)
        {
            meter.Failed(error);
            await WriteErrorAsync(http, error);
        }
        catch (Exception e) when (e is HttpRequestException or IOException && !aborted.IsCancellationRequested)
        {
            // The engine broke off (crashed or was stopped) while answering.
            var error = new GatewayException(StatusCodes.Status502BadGateway, "server_error", "engine_failed", $"The engine stopped answering: {e.Message}");
            meter.Failed(error);
            await WriteErrorAsync(http, error);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away: its wait, its place in line and its upstream request ended with it (recorded below).
        }
        finally
        {
            if (aborted.IsCancellationRequested)
            {
                meter.Cancelled();
            }

            meter.Record();
        }
    }

    /// <summary>Who asked, for the reason of a server stopped to make room: the account's e-mail.</summary>
    private static string RequesterOf(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.Email) ?? user.FindFirstValue(JwtRegisteredClaimNames.Email) ?? user.Identity?.Name ?? "an API client";

    private static async Task<JsonObject> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) as JsonObject
                ?? throw GatewayException.BadRequest("The request body must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw GatewayException.BadRequest($"The request body is not valid JSON: {e.Message}");
        }
    }

    private static string ModelOf(JsonObject body) =>
        body["model"] is JsonValue model && model.TryGetValue<string>(out var name) && !string.IsNullOrWhiteSpace(name)
            ? name
            : throw GatewayException.BadRequest("Name the model: set \"model\" to a profile's name, one of its gateway names or a model id (GET /v1/models lists them).", "model");

    /// <summary>While the model loads, a streaming client gets SSE comments (the stream starts with 200), so it does not time out.</summary>
    private static async Task SendLoadingAsync(HttpContext http, TimeSpan waited)
    {
        if (!http.Response.HasStarted)
        {
            StartEventStream(http.Response, StatusCodes.Status200OK);
        }

        await http.Response.WriteAsync($": loading {(int)waited.TotalSeconds} s\n\n", http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }

    private static void StartEventStream(HttpResponse response, int status)
    {
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        response.StatusCode = status;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    private static async Task RelayAsync(HttpContext http, HttpResponseMessage upstream, GatewayMeter meter, CancellationToken cancellationToken)
    {
        var response = http.Response;
        var mediaType = upstream.Content.Headers.ContentType?.MediaType;
        if (upstream.IsSuccessStatusCode && mediaType == "text/event-stream")
        {
            if (!response.HasStarted)
            {
                StartEventStream(response, (int)upstream.StatusCode);
            }

            await using var events = await upstream.Content.ReadAsStreamAsync(cancellationToken);
            await GatewayForwarder.RelayEventsAsync(events, response.Body, response.Body.FlushAsync, cancellationToken, payload => meter.OnEvent(payload.Span));
            return;
        }

        var bytes = await upstream.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!upstream.IsSuccessStatusCode)
        {
            throw GatewayException.FromEngine((int)upstream.StatusCode, bytes);
        }

        meter.OnAnswer(bytes);
        var payload = ReasoningAlias.Rewrite(bytes) ?? bytes;
        if (response.HasStarted)
        {
            await response.WriteAsync("data: ", cancellationToken);
            await response.Body.WriteAsync(payload, cancellationToken);
            await response.WriteAsync("\n\ndata: [DONE]\n\n", cancellationToken);
            return;
        }

        response.StatusCode = (int)upstream.StatusCode;
        response.ContentType = upstream.Content.Headers.ContentType?.ToString() ?? "application/json";
        await response.Body.WriteAsync(payload, cancellationToken);
    }

    private static async Task ListModelsAsync(HttpContext http, GatewayServices services)
    {
        var models = await services.Catalog.ListAsync(http.RequestAborted);
        await http.Response.WriteAsJsonAsync(new JsonObject { ["object"] = "list", ["data"] = new JsonArray([.. models]) }, http.RequestAborted);
    }

    private static async Task GetModelAsync(string id, HttpContext http, GatewayServices services)
    {
        try
        {
            var route = await services.Router.RouteAsync(id, http.RequestAborted);
            await http.Response.WriteAsJsonAsync(await services.Catalog.DescribeAsync(route.Profile, id, http.RequestAborted), http.RequestAborted);
        }
        catch (GatewayException error)
        {
            await WriteErrorAsync(http, error);
        }
    }
}

/// <summary>Marks the gateway's endpoints, whose authentication failures are answered in OpenAI's shape.</summary>
public sealed class GatewayEndpointMetadata;

/// <summary>The gateway's parts, injected together.</summary>
public sealed class GatewayServices(
    GatewayRouter router,
    GatewayLanes lanes,
    GatewayStarter starter,
    GatewayForwarder forwarder,
    GatewayModelCatalog catalog,
    GatewayMetering metering,
    UsageQuotas quotas,
    IOptions<GatewayOptions> options)
{
    public GatewayRouter Router => router;

    public GatewayLanes Lanes => lanes;

    public GatewayStarter Starter => starter;

    public GatewayForwarder Forwarder => forwarder;

    public GatewayModelCatalog Catalog => catalog;

    public GatewayMetering Metering => metering;

    public UsageQuotas Quotas => quotas;

    public IOptions<GatewayOptions> Options => options;
}
