using Htmx;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using MlxManager.Core.Accounts;
using MlxManager.Core.Usage;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Pages.Admin.Users;

/// <summary>The nav badge: number of accounts waiting for approval.</summary>
/// <param name="Count">Pending accounts.</param>
/// <param name="OutOfBand">Rendered with <c>hx-swap-oob</c> next to another fragment.</param>
public sealed record PendingBadge(int Count, bool OutOfBand);

/// <summary>One row of the users table, with the outcome of the last action on it.</summary>
public sealed record UserRow(UserSummary User, bool IsSelf, UserQuotaView Quota, string? Message = null, bool IsError = false);

/// <summary>A user's quota as the row shows it: their own values (null = the default), what applies, today's tokens.</summary>
public sealed record UserQuotaView(UserQuota? Own, QuotaLimits Effective, long TokensToday);

/// <summary>A row replaced by an action's result, plus the badge swapped out-of-band.</summary>
public sealed record UserRowResponse(UserRow? Row, string? DeletedEmail, PendingBadge Badge);

/// <summary>AUTH-05: administrators approve, disable, re-enable, delete, reset passwords, promote and demote.</summary>
public sealed class IndexModel(UserAdministration accounts, UsageQuotas quotas) : PageModel
{
    public IReadOnlyList<UserRow> Rows { get; private set; } = [];

    public string? Message { get; private set; }

    public bool MessageIsError { get; private set; }

    private string ActorId => AccountClaims.UserId(User)!;

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<PartialViewResult> OnGetPendingBadgeAsync(CancellationToken cancellationToken) =>
        Partial("Partials/_PendingBadge", new PendingBadge(await accounts.CountPendingAsync(cancellationToken), OutOfBand: false));

    public Task<IActionResult> OnPostApproveAsync(string id, CancellationToken cancellationToken) =>
        ApplyAsync(id, "Approved.", accounts.ApproveAsync(ActorId, id, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostDisableAsync(string id, CancellationToken cancellationToken) =>
        ApplyAsync(id, "Disabled: signed out within a minute, API tokens refused now.", accounts.DisableAsync(ActorId, id, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostEnableAsync(string id, CancellationToken cancellationToken) =>
        ApplyAsync(id, "Re-enabled.", accounts.EnableAsync(ActorId, id, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostPromoteAsync(string id, CancellationToken cancellationToken) =>
        ApplyAsync(id, "Now an admin.", accounts.PromoteAsync(ActorId, id, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostDemoteAsync(string id, CancellationToken cancellationToken) =>
        ApplyAsync(id, "No longer an admin.", accounts.DemoteAsync(ActorId, id, cancellationToken), cancellationToken);

    public async Task<IActionResult> OnPostResetPasswordAsync(string id, string? newPassword, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(newPassword) || newPassword.Length < 8)
        {
            return await RespondAsync(id, AccountChange.Refused("Use at least 8 characters for the new password."), null, cancellationToken);
        }
        return await ApplyAsync(id, "Password changed; the user's sessions and tokens end.", accounts.ResetPasswordAsync(ActorId, id, newPassword, cancellationToken), cancellationToken);
    }

    /// <summary>Sets the user's tokens per day and concurrent requests: empty takes the default, 0 is no limit.</summary>
    public async Task<IActionResult> OnPostQuotaAsync(string id, string? tokensPerDay, string? concurrentRequests, CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(id, cancellationToken) is null)
        {
            return NotFound();
        }

        var tokens = QuotaField.Parse(tokensPerDay, long.MaxValue);
        var concurrent = QuotaField.Parse(concurrentRequests, 10_000);
        if (!tokens.Valid || !concurrent.Valid)
        {
            return await RespondAsync(id, AccountChange.Refused(
                "Enter whole numbers: tokens per day and concurrent requests (at most 10000); leave empty for the default, 0 for no limit."), null, cancellationToken);
        }

        await quotas.SaveUserAsync(id, tokens.Value, (int?)concurrent.Value, cancellationToken);
        return await RespondAsync(id, AccountChange.Done, "Quota saved; it applies to the next request.", cancellationToken);
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id, CancellationToken cancellationToken)
    {
        var before = await accounts.FindAsync(id, cancellationToken);
        var change = await accounts.DeleteAsync(ActorId, id, cancellationToken);
        if (!change.Succeeded || before is null)
        {
            return await RespondAsync(id, change, null, cancellationToken);
        }

        var badge = new PendingBadge(await accounts.CountPendingAsync(cancellationToken), OutOfBand: true);
        if (Request.IsHtmx())
        {
            return Partial("Partials/_UserRowResponse", new UserRowResponse(null, before.Email, badge));
        }
        Message = $"{before.Email} was deleted.";
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task<IActionResult> ApplyAsync(string id, string doneMessage, Task<AccountChange> change, CancellationToken cancellationToken) =>
        await RespondAsync(id, await change, doneMessage, cancellationToken);

    private async Task<IActionResult> RespondAsync(string id, AccountChange change, string? doneMessage, CancellationToken cancellationToken)
    {
        var message = change.Succeeded ? doneMessage : change.Error;
        if (!Request.IsHtmx())
        {
            Message = message;
            MessageIsError = !change.Succeeded;
            await LoadAsync(cancellationToken);
            return Page();
        }

        var summary = await accounts.FindAsync(id, cancellationToken);
        var badge = new PendingBadge(await accounts.CountPendingAsync(cancellationToken), OutOfBand: true);
        var row = summary is null ? null : new UserRow(summary, summary.Id == ActorId, QuotaOf(summary.Id), message, !change.Succeeded);
        return Partial("Partials/_UserRowResponse", new UserRowResponse(row, summary is null ? "The account" : null, badge));
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var actorId = ActorId;
        Rows = (await accounts.ListAsync(cancellationToken))
            .Select(user => new UserRow(user, user.Id == actorId, QuotaOf(user.Id)))
            .ToList();
    }

    private UserQuotaView QuotaOf(string userId) => new(quotas.OverrideOf(userId), quotas.LimitsOf(userId), quotas.TokensToday(userId));
}
