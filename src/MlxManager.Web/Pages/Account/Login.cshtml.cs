using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using MlxManager.Core.Accounts;
using MlxManager.Web.Accounts;
using MlxManager.Web.Hosting;

namespace MlxManager.Web.Pages.Account;

[EnableRateLimiting(RateLimitsHosting.SignInPolicy)]
public sealed partial class LoginModel(SignInLockout lockout, SignInManager<AppUser> signIn, ILogger<LoginModel> logger) : PageModel
{
    /// <summary>One message for an unknown e-mail and a wrong password, so the form reveals nothing.</summary>
    public const string InvalidCredentialsMessage = "Wrong e-mail or password.";

    /// <summary>After any registration but the first, whether or not the address already had an account.</summary>
    public const string RegisteredNotice = "Thanks. Sign in with the address and password you registered: an administrator approves new accounts, and the next page tells you when.";

    public const string DisabledMessage = "This account has been disabled. Ask an administrator to re-enable it.";

    public const string LockedOutMessage = SignInLockout.LockedOutMessage;

    [BindProperty]
    public LoginInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Reason { get; set; }

    public string? Error { get; private set; }

    public string? Notice => Reason switch
    {
        "disabled" => "You were signed out: an administrator disabled this account.",
        "removed" => "You were signed out: this account no longer exists.",
        "signed-out" => "You are signed out.",
        "registered" => RegisteredNotice,
        _ => null,
    };

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var check = await lockout.CheckAsync(Input.Email, Input.Password, HttpContext);
        if (check.Verdict != SignInVerdict.Succeeded)
        {
            return Refuse(check.Verdict == SignInVerdict.LockedOut ? LockedOutMessage : InvalidCredentialsMessage);
        }
        var user = check.User!;
        if (user.Status == UserStatus.Disabled)
        {
            return Refuse(DisabledMessage);
        }

        await signIn.SignInAsync(user, isPersistent: true);
        LogSignedIn(user.Id, user.Status);
        if (user.Status == UserStatus.Pending)
        {
            return LocalRedirect("/pending");
        }
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) && !IsAccountPage(ReturnUrl) ? ReturnUrl : "/");
    }

    private static bool IsAccountPage(string url) =>
        url.StartsWith("/login", StringComparison.OrdinalIgnoreCase) || url.StartsWith("/logout", StringComparison.OrdinalIgnoreCase);

    private PageResult Refuse(string message)
    {
        Error = message;
        Input.Password = "";
        return Page();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Account {UserId} signed in ({Status})")]
    private partial void LogSignedIn(string userId, UserStatus status);
}

public sealed class LoginInput
{
    [Required(ErrorMessage = "Enter your e-mail address.")]
    [EmailAddress(ErrorMessage = "Enter a valid e-mail address.")]
    [Display(Name = "E-mail")]
    public string Email { get; set; } = "";

    [Required(ErrorMessage = "Enter your password.")]
    [DataType(DataType.Password)]
    public string Password { get; set; } = "";
}
