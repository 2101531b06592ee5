using Microsoft.AspNetCore.Identity;

namespace MlxManager.Core.Accounts;

/// <summary>A person who signs in to MLX Manager. The user name is the e-mail address.</summary>
public class AppUser : IdentityUser
{
    /// <summary>Pending until an administrator approves the account; disabled accounts cannot sign in.</summary>
    public UserStatus Status { get; set; } = UserStatus.Pending;

    /// <summary>When the account was registered (UTC).</summary>
    public DateTime CreatedAtUtc { get; set; }
}

/// <summary>Where an account stands in the admin-approval life cycle.</summary>
public enum UserStatus
{
    /// <summary>Registered, waiting for an administrator; may only see the "pending" page.</summary>
    Pending = 0,

    /// <summary>Approved: may use the app.</summary>
    Active = 1,

    /// <summary>Turned off by an administrator: sessions end and tokens are refused.</summary>
    Disabled = 2,
}

/// <summary>Role names stored in the Identity tables.</summary>
public static class Roles
{
    /// <summary>Administrators approve users, manage accounts and see the jobs dashboard.</summary>
    public const string Admin = "admin";

    /// <summary>Fixed id of the seeded admin role (see <c>Data/IdentityConfiguration</c>).</summary>
    public const string AdminRoleId = "6f1c3a52-9a70-4f43-bb1e-3c0c0f7d8a01";
}
