using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using MlxManager.Core.Accounts;

namespace MlxManager.Web.Accounts;

/// <summary>Settings under <c>MlxManager:RateLimits:Lockout</c>.</summary>
public sealed class SignInLockoutOptions
{
    public const string Section = "MlxManager:RateLimits:Lockout";

    /// <summary>Wrong passwords for one e-mail address from one client address before that pair is locked.</summary>
    public int MaxFailedAttempts { get; set; } = 5;

    /// <summary>How long a locked pair stays locked; failures older than this are forgotten.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>What a password check concluded.</summary>
public enum SignInVerdict
{
    /// <summary>The password is right; <see cref="SignInCheck.User"/> is the account (of any status).</summary>
    Succeeded,

    /// <summary>Unknown e-mail or wrong password: the same answer for both.</summary>
    Invalid,

    /// <summary>Too many failures for this e-mail from this client address: the same answer whether the account exists or not.</summary>
    LockedOut,
}

/// <summary>Outcome of <see cref="SignInLockout.CheckAsync"/>.</summary>
public sealed record SignInCheck(SignInVerdict Verdict, AppUser? User);

/// <summary>
/// Checks a password for the login page and <c>POST /api/auth/token</c>, with a lockout per (e-mail, client address)
/// instead of Identity's per-account lockout: a stranger guessing from elsewhere locks only their own address, never
/// the owner's, and an unknown e-mail is counted and locked exactly like a known one, so the answers reveal nothing.
/// </summary>
public sealed partial class SignInLockout(
    UserManager<AppUser> users,
    SignInManager<AppUser> signIn,
    SignInFailures failures,
    ILogger<SignInLockout> logger)
{
    /// <summary>What the login page and the token API say while a pair is locked, the same whether the account exists or not.</summary>
    public const string LockedOutMessage = "Too many failed attempts for this e-mail address from here. Try again later.";

    public async Task<SignInCheck> CheckAsync(string email, string password, HttpContext http)
    {
        email = email.Trim();
        var key = (users.NormalizeEmail(email), ClientAddress.Of(http));
        if (failures.IsLocked(key))
        {
            return new SignInCheck(SignInVerdict.LockedOut, null);
        }

        var user = await users.FindByEmailAsync(email);
        if (user is null)
        {
            // Hash anyway so an unknown e-mail answers as slowly as a wrong password.
            users.PasswordHasher.HashPassword(new AppUser(), password);
        }
        else if ((await signIn.CheckPasswordSignInAsync(user, password, lockoutOnFailure: false)).Succeeded)
        {
            failures.Forget(key);
            return new SignInCheck(SignInVerdict.Succeeded, user);
        }

        if (!failures.Count(key))
        {
            return new SignInCheck(SignInVerdict.Invalid, null);
        }
        LogLockedOut(key.Item2);
        return new SignInCheck(SignInVerdict.LockedOut, null);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-in for an e-mail address from {Client} is locked after repeated failures")]
    private partial void LogLockedOut(string client);
}

/// <summary>
/// Failed sign-ins per (normalized e-mail, client address), in memory: a size-bounded <see cref="MemoryCache"/> whose
/// entries expire <see cref="SignInLockoutOptions.Duration"/> after the first failure or after the lock. In memory
/// rather than a table because the app is one process per data folder, a restart forgetting the counters is harmless
/// next to the per-address rate limit, and a table would cost a database write for every failed attempt.
/// </summary>
public sealed class SignInFailures(IOptions<SignInLockoutOptions> options, TimeProvider time) : IDisposable
{
    /// <summary>At most this many pairs are remembered; beyond, the cache compacts the oldest away.</summary>
    private const int MaxPairs = 100_000;

    private readonly MemoryCache _pairs = new(new MemoryCacheOptions { SizeLimit = MaxPairs });

    public bool IsLocked((string Email, string Client) key) =>
        _pairs.TryGetValue(key, out Pair? pair) && pair!.IsLocked(time.GetUtcNow());

    /// <summary>Counts a failure; true when it is the one that locks the pair.</summary>
    public bool Count((string Email, string Client) key)
    {
        var settings = options.Value;
        var pair = _pairs.GetOrCreate(key, entry =>
        {
            entry.Size = 1;
            entry.AbsoluteExpirationRelativeToNow = settings.Duration;
            return new Pair();
        })!;
        if (!pair.Fail(time.GetUtcNow(), settings))
        {
            return false;
        }
        _pairs.Set(key, pair, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = settings.Duration });
        return true;
    }

    public void Forget((string Email, string Client) key) => _pairs.Remove(key);

    public void Dispose() => _pairs.Dispose();

    private sealed class Pair
    {
        private readonly Lock _gate = new();
        private int _failures;
        private DateTimeOffset _lockedUntil;

        public bool IsLocked(DateTimeOffset now)
        {
            lock (_gate)
            {
                return now < _lockedUntil;
            }
        }

        public bool Fail(DateTimeOffset now, SignInLockoutOptions settings)
        {
            lock (_gate)
            {
                if (++_failures < settings.MaxFailedAttempts)
                {
                    return false;
                }
                _failures = 0;
                _lockedUntil = now + settings.Duration;
                return true;
            }
        }
    }
}

/// <summary>The client's address as the rate limit and the lockout count it (after forwarded headers from a known proxy).</summary>
public static class ClientAddress
{
    public static string Of(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "local";
}
