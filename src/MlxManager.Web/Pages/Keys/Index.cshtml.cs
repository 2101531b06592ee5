using Htmx;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using MlxManager.Core.Accounts.Keys;
using MlxManager.Core.Gateway;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Pages.Keys;

/// <summary>The new-key form as posted; unchecked boxes are absent, so they bind as false.</summary>
public sealed class KeyForm
{
    public string? Name { get; set; }

    public DateOnly? ExpiresOn { get; set; }

    public bool Inference { get; set; }

    public bool Metrics { get; set; }

    public bool Manage { get; set; }

    /// <summary>The requests' place in the gateway's lanes; interactive unless the user picks batch.</summary>
    public RequestPriority Priority { get; set; }

    public ApiKeyScopes Scopes =>
        (Inference ? ApiKeyScopes.Inference : 0) | (Metrics ? ApiKeyScopes.Metrics : 0) | (Manage ? ApiKeyScopes.Manage : 0);
}

/// <summary>One key in the table, with the outcome of the last action on it.</summary>
public sealed record KeyRow(ApiKeySummary Summary, bool ShowOwner, string? Message = null);

/// <summary>Personal API keys: create (the secret is shown once), list, revoke. Admins see everyone's keys.</summary>
public sealed class IndexModel(PersonalApiKeys keys, IAuthorizationService authorization) : PageModel
{
    [BindProperty]
    public KeyForm Form { get; set; } = new();

    public IReadOnlyDictionary<string, string> Errors { get; private set; } = new Dictionary<string, string>();

    /// <summary>The secret of the key just created: shown in this response only.</summary>
    public string? NewSecret { get; private set; }

    public string? NewKeyName { get; private set; }

    public IReadOnlyList<KeyRow> Rows { get; private set; } = [];

    public bool IsAdmin { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Form.Inference = true;
        await LoadAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken)
    {
        var viewer = await ViewerAsync();
        var creation = ModelState.GetFieldValidationState("Form.ExpiresOn") == Microsoft.AspNetCore.Mvc.ModelBinding.ModelValidationState.Invalid
            ? new ApiKeyCreation(null, null, new Dictionary<string, string> { ["ExpiresOn"] = "Enter a date such as 2027-01-31." })
            : await keys.CreateAsync(viewer, new NewApiKey(Form.Name, Form.ExpiresOn, Form.Scopes, Form.Priority), cancellationToken);
        if (creation.Succeeded)
        {
            NewSecret = creation.Secret;
            NewKeyName = creation.Key!.Name;
            ModelState.Clear();
            Form = new KeyForm { Inference = true };
        }
        else
        {
            Errors = creation.Errors;
        }
        await LoadAsync(cancellationToken);
        return Request.IsHtmx() ? Partial("Partials/_KeysPanel", this) : Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(int id, CancellationToken cancellationToken)
    {
        var viewer = await ViewerAsync();
        if (!await keys.RevokeAsync(viewer, id, cancellationToken))
        {
            return NotFound();
        }
        var summary = (await keys.FindAsync(viewer, id, cancellationToken))!;
        if (Request.IsHtmx())
        {
            return Partial("Partials/_KeyRow", new KeyRow(summary, viewer.IsAdmin, "Revoked: refused from now on."));
        }
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task<KeyViewer> ViewerAsync()
    {
        IsAdmin = await authorization.IsAdminAsync(User);
        return new KeyViewer(AccountClaims.UserId(User)!, IsAdmin);
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var viewer = await ViewerAsync();
        Rows = (await keys.ListAsync(viewer, cancellationToken)).Select(summary => new KeyRow(summary, viewer.IsAdmin)).ToList();
    }
}
