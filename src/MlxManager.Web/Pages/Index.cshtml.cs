using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using MlxManager.Core.Accounts;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Pages;

public sealed class IndexModel(IAuthorizationService authorization, UserAdministration accounts) : PageModel
{
    public int PendingAccounts { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        if (await authorization.IsAdminAsync(User))
        {
            PendingAccounts = await accounts.CountPendingAsync(cancellationToken);
        }
    }
}
