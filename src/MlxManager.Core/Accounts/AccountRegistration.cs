using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Data;

namespace MlxManager.Core.Accounts;

/// <summary>Outcome of a registration: the new account, or messages keyed by the field they concern.</summary>
public sealed record RegistrationResult(AppUser? User, IReadOnlyDictionary<string, string[]> Errors)
{
    /// <summary>Field name used for e-mail errors.</summary>
    public const string EmailField = "Email";

    /// <summary>Field name used for password errors.</summary>
    public const string PasswordField = "Password";

    /// <summary>True when the account was created.</summary>
    public bool Succeeded => User is not null;

    /// <summary>True when the new account is the first one and therefore an active administrator.</summary>
    public bool IsAdmin { get; init; }

    /// <summary>
    /// True when an account with this e-mail already exists. Its error is left out of <see cref="Errors"/>, so a form
    /// can answer as it does for a new account and not reveal which addresses have one.
    /// </summary>
    public bool EmailTaken { get; init; }
}

/// <summary>Creates accounts: the very first one as an active administrator, the rest pending approval.</summary>
public sealed partial class AccountRegistration(
    AppDbContext db,
    UserManager<AppUser> users,
    AccountWriteGate gate,
    TimeProvider time,
    ILogger<AccountRegistration> logger)
{
    /// <summary>
    /// Registers <paramref name="email"/>. Atomic: the count of existing accounts and the insert happen
    /// in one serialized transaction, so two simultaneous first registrations give exactly one admin,
    /// and a rejected registration leaves nothing behind.
    /// </summary>
    public async Task<RegistrationResult> RegisterAsync(string email, string password, CancellationToken cancellationToken = default)
    {
        email = email.Trim();
        using var entered = await gate.EnterAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        var isFirst = !await db.Users.AnyAsync(cancellationToken);
        var user = new AppUser
        {
            UserName = email,
            Email = email,
            Status = isFirst ? UserStatus.Active : UserStatus.Pending,
            CreatedAtUtc = time.GetUtcNow().UtcDateTime,
        };

        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
        {
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            return new RegistrationResult(null, ToFieldErrors(created.Errors.Where(error => !IsDuplicate(error))))
            {
                EmailTaken = created.Errors.Any(IsDuplicate),
            };
        }

        if (isFirst)
        {
            var promoted = await users.AddToRoleAsync(user, Roles.Admin);
            if (!promoted.Succeeded)
            {
                await transaction.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
                throw new InvalidOperationException("Could not give the first account the admin role: " + Describe(promoted.Errors));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        LogRegistered(user.Id, user.Status, isFirst);
        return new RegistrationResult(user, new Dictionary<string, string[]>()) { IsAdmin = isFirst };
    }

    /// <summary>Maps Identity's errors to the form field they are about.</summary>
    public static IReadOnlyDictionary<string, string[]> ToFieldErrors(IEnumerable<IdentityError> errors) =>
        errors
            .GroupBy(error => error.Code.StartsWith("Password", StringComparison.Ordinal) ? RegistrationResult.PasswordField : RegistrationResult.EmailField)
            .ToDictionary(group => group.Key, group => group.Select(Message).Distinct().ToArray());

    private static string Message(IdentityError error) => error.Code switch
    {
        nameof(IdentityErrorDescriber.DuplicateUserName) or nameof(IdentityErrorDescriber.DuplicateEmail) => "An account with this e-mail address already exists.",
        nameof(IdentityErrorDescriber.InvalidUserName) or nameof(IdentityErrorDescriber.InvalidEmail) => "Enter a valid e-mail address.",
        _ => error.Description,
    };

    private static bool IsDuplicate(IdentityError error) =>
        error.Code is nameof(IdentityErrorDescriber.DuplicateUserName) or nameof(IdentityErrorDescriber.DuplicateEmail);

    private static string Describe(IEnumerable<IdentityError> errors) => string.Join("; ", errors.Select(error => error.Description));

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered account {UserId} as {Status} (first account: {IsFirst})")]
    private partial void LogRegistered(string userId, UserStatus status, bool isFirst);
}
