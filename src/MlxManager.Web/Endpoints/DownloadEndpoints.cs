using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MlxManager.Core.Downloads;
using MlxManager.Core.Library;
using MlxManager.Web.Accounts;
using MlxManager.Web.Hosting;
using MlxManager.Web.Pages.Models;

namespace MlxManager.Web.Endpoints;

/// <summary>Body of <c>POST /api/downloads</c>.</summary>
public sealed record DownloadRequest(string? RepoId);

/// <summary>
/// Downloads over HTTP. For the browser (cookie, antiforgery; outside <c>/api</c>): <c>GET /downloads/tiles</c> (the
/// tiles fragment), <c>GET /downloads/events</c> (SSE: event <c>downloads</c> carries the tiles' HTML whenever they
/// change, event <c>library</c> a stamp whenever a download finished) and
/// <c>POST /downloads/{id}/pause|resume|cancel|retry|dismiss</c>, which answer with the notice line (#download-notice)
/// only: the tiles have a single writer, the SSE stream, so no answer paints an older state. The browser starts a
/// download with the Models page's <c>?handler=Download</c>. For API clients (bearer token): <c>GET /api/downloads</c>, <c>GET /api/downloads/{id}</c>,
/// <c>POST /api/downloads</c> (<c>{"repoId": "org/name"}</c>, 202) and the same five actions. Starting and steering
/// downloads is for administrators, like deleting models; everyone signed in sees them.
/// </summary>
public static partial class DownloadEndpoints
{
    private static readonly string[] Actions = ["pause", "resume", "cancel", "retry", "dismiss"];

    public static WebApplication MapDownloadEndpoints(this WebApplication app)
    {
        var browser = app.MapGroup("/downloads");
        browser.MapGet("/tiles", TilesAsync).WithName("DownloadTiles");
        browser.MapGet("/events", EventsAsync).WithName("DownloadEvents").LimitSseConnections();
        foreach (var action in Actions)
        {
            browser.MapPost($"/{{id:int}}/{action}", (int id, HttpContext context, DownloadQueue queue, RazorPartials partials) =>
                    ActFromPageAsync(action, id, context, queue, partials))
                .RequireAuthorization(AccountPolicies.Admin)
                .AddEndpointFilter(ValidateAntiforgery);
        }

        var api = app.MapGroup("/api/downloads");
        api.MapGet("", ListAsync).WithName("ListDownloads");
        api.MapGet("/{id:int}", GetAsync).WithName("GetDownload");
        api.MapPost("", StartFromApiAsync).RequireAuthorization(AccountPolicies.Admin).WithName("StartDownload");
        foreach (var action in Actions)
        {
            api.MapPost($"/{{id:int}}/{action}", (int id, DownloadQueue queue, CancellationToken cancellationToken) => ActFromApiAsync(action, id, queue, cancellationToken))
                .RequireAuthorization(AccountPolicies.Admin);
        }

        return app;
    }

    private static async Task<ContentHttpResult> TilesAsync(HttpContext context, DownloadBoard board, RazorPartials partials, HfEnvironment environment, IAuthorizationService authorization)
    {
        var state = await board.RefreshAsync(context.RequestAborted);
        var view = new DownloadTilesView(state.Downloads, await authorization.IsAdminAsync(context.User), environment.Endpoint);
        return TypedResults.Content(await partials.RenderAsync(context, DownloadTilesView.PartialPath, view), "text/html; charset=utf-8");
    }

    private static async Task<IResult> EventsAsync(HttpContext context, DownloadBoard board, RazorPartials partials, HfEnvironment environment, IAuthorizationService authorization, IHostApplicationLifetime lifetime)
    {
        var canManage = await authorization.IsAdminAsync(context.User);
        context.Response.Headers.CacheControl = "no-cache, no-store";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(StreamAsync(context, board, partials, environment.Endpoint, canManage, lifetime.ApplicationStopping));
    }

    /// <summary>One stream per page: the tiles' HTML when it changes, and <c>library</c> when a download finished.</summary>
    private static async IAsyncEnumerable<SseItem<string>> StreamAsync(HttpContext context, DownloadBoard board, RazorPartials partials, string endpoint, bool canManage, CancellationToken appStopping, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, appStopping, cancellationToken);
        string? lastHtml = null;
        string? lastStamp = null;
        await foreach (var state in board.WatchAsync(stop.Token))
        {
            var html = await partials.RenderAsync(context, DownloadTilesView.PartialPath, new DownloadTilesView(state.Downloads, canManage, endpoint));
            if (html != lastHtml)
            {
                lastHtml = html;
                yield return new SseItem<string>(html, "downloads");
            }

            if (lastStamp is not null && state.LibraryStamp != lastStamp)
            {
                yield return new SseItem<string>(state.LibraryStamp, "library");
            }

            lastStamp = state.LibraryStamp;
        }
    }

    private static async Task<IResult> ActFromPageAsync(string action, int id, HttpContext context, DownloadQueue queue, RazorPartials partials)
    {
        // The tiles change through the SSE stream; the answer only says when something could not be done.
        var result = await ActAsync(action, id, queue, context.RequestAborted);
        return await NoticeAsync(context, partials, result.Done ? DownloadNotice.None : new DownloadNotice(result.Message, IsError: true));
    }

    private static async Task<IResult> NoticeAsync(HttpContext context, RazorPartials partials, DownloadNotice notice) =>
        TypedResults.Content(await partials.RenderAsync(context, DownloadNotice.PartialPath, notice), "text/html; charset=utf-8");

    private static async Task<Ok<IReadOnlyList<DownloadView>>> ListAsync(DownloadQueue queue, CancellationToken cancellationToken) =>
        TypedResults.Ok(await queue.ListAsync(cancellationToken: cancellationToken));

    private static async Task<Results<Ok<DownloadView>, NotFound>> GetAsync(int id, DownloadQueue queue, CancellationToken cancellationToken) =>
        await queue.FindAsync(id, cancellationToken) is { } download ? TypedResults.Ok(download) : TypedResults.NotFound();

    private static async Task<Results<Accepted<DownloadStartResult>, ValidationProblem>> StartFromApiAsync(DownloadRequest? request, HttpContext context, DownloadQueue queue)
    {
        try
        {
            var started = await queue.StartAsync(request?.RepoId ?? string.Empty, context.User.FindFirstValue(ClaimTypes.Email) ?? context.User.Identity?.Name, context.RequestAborted);
            return TypedResults.Accepted($"/api/downloads/{started.Download.Id}", started);
        }
        catch (ArgumentException exception)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["repoId"] = [exception.Message] });
        }
    }

    private static async Task<Results<Ok<DownloadActionResult>, NotFound<DownloadActionResult>, Conflict<DownloadActionResult>>> ActFromApiAsync(string action, int id, DownloadQueue queue, CancellationToken cancellationToken)
    {
        var result = await ActAsync(action, id, queue, cancellationToken);
        return result switch
        {
            { Download: null } => TypedResults.NotFound(result),
            { Done: false } => TypedResults.Conflict(result),
            _ => TypedResults.Ok(result),
        };
    }

    private static Task<DownloadActionResult> ActAsync(string action, int id, DownloadQueue queue, CancellationToken cancellationToken) => action switch
    {
        "pause" => queue.PauseAsync(id, cancellationToken),
        "resume" => queue.ResumeAsync(id, cancellationToken),
        "cancel" => queue.CancelAsync(id, cancellationToken),
        "retry" => queue.RetryAsync(id, cancellationToken),
        "dismiss" => queue.DismissAsync(id, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "unknown download action"),
    };

    /// <summary>Browser POSTs carry the antiforgery token (htmx sends it as a header), as Razor Pages require.</summary>
    private static async ValueTask<object?> ValidateAntiforgery(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var antiforgery = invocation.HttpContext.RequestServices.GetRequiredService<IAntiforgery>();
        if (!await antiforgery.IsRequestValidAsync(invocation.HttpContext))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The form expired or did not come from this site. Reload the page and try again.");
        }

        return await next(invocation);
    }
}
