using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using MlxManager.Core.Accounts;
using MlxManager.Web.Hosting;

namespace MlxManager.Web.Pages.Account;

[EnableRateLimiting(RateLimitsHosting.SignInPolicy)]
public sealed class RegisterModel(AccountRegistration registration, SignInManager<AppUser> signIn) : PageModel
{
    [BindProperty]
    public RegisterInput Input { get; set; } = new();

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var result = await registration.RegisterAsync(Input.Email, Input.Password, cancellationToken);
        if (!result.Succeeded && !(result.EmailTaken && result.Errors.Count == 0))
        {
            foreach (var (field, messages) in result.Errors)
            {
                foreach (var message in messages)
                {
                    ModelState.AddModelError($"{nameof(Input)}.{field}", message);
                }
            }
            return Page();
        }

        if (!result.IsAdmin)
        {
            // A new pending account and an address that already has one get the same answer (no session either),
            // so the form does not tell which addresses are registered.
            return LocalRedirect("/login?reason=registered");
        }
        await signIn.SignInAsync(result.User!, isPersistent: true);
        return LocalRedirect("/");
    }
}

public sealed class RegisterInput
{
    [Required(ErrorMessage = "Enter your e-mail address.")]
    [EmailAddress(ErrorMessage = "Enter a valid e-mail address.")]
    [StringLength(256, ErrorMessage = "The e-mail address is too long.")]
    [Display(Name = "E-mail")]
    public string Email { get; set; } = "";

    [Required(ErrorMessage = "Choose a password.")]
    [StringLength(128, MinimumLength = 8, ErrorMessage = "Use at least 8 characters.")]
    [DataType(DataType.Password)]
    public string Password { get; set; } = "";

    [Required(ErrorMessage = "Type the password again.")]
    [Compare(nameof(Password), ErrorMessage = "The two passwords do not match.")]
    [DataType(DataType.Password)]
    [Display(Name = "Password again")]
    public string ConfirmPassword { get; set; } = "";
}
