using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using MlxManager.Core.Accounts;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Pages.Account;

/// <summary>Where a signed-in account waits for approval. Once approved, it goes straight into the app.</summary>
public sealed class PendingModel(AccountSnapshots snapshots, UserManager<AppUser> users, SignInManager<AppUser> signIn) : PageModel
{
    public string Email { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        var userId = AccountClaims.UserId(User);
        var snapshot = userId is null ? null : await snapshots.GetAsync(userId, cancellationToken);
        switch (snapshot)
        {
            case null:
                await signIn.SignOutAsync();
                return LocalRedirect("/login?reason=removed");
            case { Status: UserStatus.Disabled }:
                await signIn.SignOutAsync();
                return LocalRedirect("/login?reason=disabled");
            case { Status: UserStatus.Active }:
                // Approved since signing in: refresh the session's claims and go in.
                var user = await users.FindByIdAsync(snapshot.UserId);
                if (user is not null)
                {
                    await signIn.RefreshSignInAsync(user);
                }
                return LocalRedirect("/");
            default:
                Email = snapshot.Email;
                return Page();
        }
    }
}
