using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Data;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Web.Pages.Profiles;

/// <summary>
/// Deleting a profile asks first; when its server runs, the question says so, and deleting stops the server before
/// the profile goes (the original left such servers running with nothing to manage them).
/// </summary>
public sealed class DeleteModel(AppDbContext db, ServerSupervisor supervisor) : PageModel
{
    public Profile Profile { get; private set; } = null!;

    public ServerSnapshot? Server { get; private set; }

    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken)
    {
        var profile = await db.Profiles.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (profile is null)
        {
            return NotFound();
        }

        Profile = profile;
        Server = supervisor.Find(id);
        return Page();
    }

    /// <param name="id">The profile.</param>
    /// <param name="stopServer">The user confirmed that the running server may be stopped.</param>
    public async Task<IActionResult> OnPostAsync(int id, bool stopServer, CancellationToken cancellationToken)
    {
        var profile = await db.Profiles.FirstOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (profile is null)
        {
            return NotFound();
        }

        Profile = profile;
        Server = supervisor.Find(id);
        if (Server is { IsActive: true } && !stopServer)
        {
            // It started after the question was shown: ask again, now mentioning it.
            Problem = "Its server is running. Confirm that it may be stopped.";
            return Page();
        }

        var retired = await supervisor.RetireProfileAsync(id, cancellationToken);
        if (supervisor.Find(id) is { IsActive: true })
        {
            Problem = $"Its server could not be stopped: {retired.Message}";
            return Page();
        }

        db.Profiles.Remove(profile);
        await db.SaveChangesAsync(cancellationToken);
        TempData["ProfileMessage"] = Server is { IsActive: true }
            ? $"Stopped its server and deleted the profile \"{profile.Name}\"."
            : $"Deleted the profile \"{profile.Name}\".";
        return RedirectToPage("/Profiles/Index");
    }
}
