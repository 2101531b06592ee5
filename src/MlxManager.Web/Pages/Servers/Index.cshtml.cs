using System.Globalization;
using Htmx;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Data;
using MlxManager.Core.Servers;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Pages.Servers;

/// <summary>A profile in the start picker.</summary>
/// <param name="Id">The profile id (= the server id).</param>
/// <param name="Name">The profile's name.</param>
/// <param name="Summary">Model, engine and port, for the option's second line.</param>
/// <param name="State">The state of its server, null when none.</param>
public sealed record PickerOption(int Id, string Name, string Summary, ServerState? State);

/// <summary>The picker: its options, the preselected profile, and whether to render only the list (out of band).</summary>
public sealed record PickerModel(IReadOnlyList<PickerOption> Options, int? Preselected)
{
    public bool ListOnly { get; init; }

    public bool OutOfBand { get; init; }
}

/// <summary>The answer to a start/stop/restart/dismiss sent by htmx: the live region plus a status message out of band.</summary>
public sealed record ServerActionResponse(ServersLive Live, string Message, bool IsError, IReadOnlyList<PickerOption> Options);

/// <summary>
/// SERVER-01..03: every active user sees the servers; administrators start, stop and restart them. The live region
/// (memory bar + tiles) is re-fetched and morphed whenever the page's one SSE stream (<c>/servers/events</c>) rings;
/// log panels fetch their new lines when it says a server's log grew.
/// </summary>
public sealed class IndexModel(
    IServerDirectory servers,
    ServerSupervisor supervisor,
    ServersViewBuilder view,
    ServersFragmentCache fragments,
    AppDbContext db,
    IAuthorizationService authorization) : PageModel
{
    public ServersLive Live { get; private set; } = null!;

    public IReadOnlyList<PickerOption> Options { get; private set; } = [];

    public bool CanManage { get; private set; }

    /// <summary>From <c>?profile=</c>: preselects that profile in the picker.</summary>
    public int? Preselected { get; private set; }

    public string? Message { get; private set; }

    public bool MessageIsError { get; private set; }

    public async Task OnGetAsync(int? profile, CancellationToken cancellationToken)
    {
        Preselected = profile;
        await LoadAsync(cancellationToken);
    }

    /// <summary>
    /// The live region: system memory bar and server tiles (morphed into <c>#servers-live</c>), the same bytes for
    /// every page of one role until something changes; tagged, so a page whose copy is current gets a 304.
    /// </summary>
    public async Task<IActionResult> OnGetLiveAsync()
    {
        var fragment = await fragments.GetAsync(HttpContext, await authorization.IsAdminAsync(User));
        Response.Headers.CacheControl = "private, no-cache"; // revalidate on every tick, never shared
        return new FileContentResult(fragment.Html, "text/html; charset=utf-8") { EntityTag = fragment.ETag }; // answers If-None-Match
    }

    /// <summary>Log lines of a server's current run after <paramref name="after"/>, escaped, for its log panel.</summary>
    public IActionResult OnGetLogLines(int id, long after)
    {
        var slice = servers.ReadLog(id, Math.Max(0, after), 500);
        var server = servers.Find(id);
        if (slice is null || server is null)
        {
            return NotFound();
        }

        Response.Headers["X-Log-Run"] = server.RunId.ToString(CultureInfo.InvariantCulture);
        Response.Headers["X-Log-Last"] = slice.LastSequence.ToString(CultureInfo.InvariantCulture);
        return Partial("Partials/_LogLines", slice);
    }

    /// <summary>The whole log of the server's current (or last) run: its rotated part, when it has one, then the log file.</summary>
    public IActionResult OnGetLog(int id)
    {
        var server = servers.Find(id);
        var path = servers.LogFileOf(id);
        if (server is null || path is null || !System.IO.File.Exists(path))
        {
            return NotFound();
        }

        var name = string.Concat(server.Profile.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-'));
        return File(new RunLogReader(RunLog.FilesOf(path)), "text/plain; charset=utf-8", $"{name}-run-{server.RunId}.log");
    }

    [AdminOnly]
    public async Task<IActionResult> OnPostStartAsync(int? profileId, CancellationToken cancellationToken)
    {
        if (profileId is not { } id)
        {
            return await RespondAsync(new ServerCommandResult(false, "Choose a profile to start: type part of its name and pick it from the list.", null), cancellationToken);
        }

        return await RespondAsync(await supervisor.StartServerAsync(id, cancellationToken), cancellationToken);
    }

    [AdminOnly]
    public async Task<IActionResult> OnPostStopAsync(int id, CancellationToken cancellationToken) =>
        await RespondAsync(await supervisor.StopServerAsync(id, cancellationToken), cancellationToken);

    [AdminOnly]
    public async Task<IActionResult> OnPostRestartAsync(int id, CancellationToken cancellationToken) =>
        await RespondAsync(await supervisor.RestartServerAsync(id, cancellationToken), cancellationToken);

    [AdminOnly]
    public async Task<IActionResult> OnPostDismissAsync(int id, CancellationToken cancellationToken) =>
        await RespondAsync(supervisor.Dismiss(id)
            ? new ServerCommandResult(true, "Removed from the list.", null)
            : new ServerCommandResult(false, "That server is still running; stop it first.", servers.Find(id)), cancellationToken);

    private async Task<IActionResult> RespondAsync(ServerCommandResult result, CancellationToken cancellationToken)
    {
        if (Request.IsHtmx())
        {
            var options = await LoadOptionsAsync(cancellationToken);
            return Partial("Partials/_ActionResponse", new ServerActionResponse(await view.BuildAsync(canManage: true, cancellationToken), result.Message, !result.Succeeded, options));
        }

        await LoadAsync(cancellationToken);
        Message = result.Message;
        MessageIsError = !result.Succeeded;
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        CanManage = await authorization.IsAdminAsync(User);
        Live = await view.BuildAsync(CanManage, cancellationToken);
        Options = await LoadOptionsAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<PickerOption>> LoadOptionsAsync(CancellationToken cancellationToken)
    {
        var profiles = await db.Profiles.AsNoTracking()
            .Select(p => new { p.Id, p.Name, p.ModelRef, p.Engine, p.Host, p.Port })
            .ToListAsync(cancellationToken);
        return profiles
            .OrderBy(p => p.Name, StringComparer.OrdinalIgnoreCase)
            .Select(p => new PickerOption(p.Id, p.Name, $"{p.ModelRef} · {p.Engine} · {p.Host}:{p.Port}", servers.Find(p.Id)?.State))
            .ToList();
    }
}
