using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Data;

namespace MlxManager.Core.Accounts.Keys;

/// <summary>Limits of the key form.</summary>
public static class ApiKeyRules
{
    public const int MaxNameLength = 100;
}

/// <summary>Who is asking: the signed-in account and whether it is an admin right now.</summary>
public sealed record KeyViewer(string UserId, bool IsAdmin);

/// <summary>What the user asked for on the key form.</summary>
public sealed record NewApiKey(string? Name, DateOnly? ExpiresOn, ApiKeyScopes Scopes, Gateway.RequestPriority Priority = Gateway.RequestPriority.Interactive);

/// <summary>The outcome of <see cref="PersonalApiKeys.CreateAsync"/>: the secret (shown once) or the reasons, by field.</summary>
public sealed record ApiKeyCreation(ApiKey? Key, string? Secret, IReadOnlyDictionary<string, string> Errors)
{
    public bool Succeeded => Key is not null;
}

/// <summary>One key as the keys page lists it.</summary>
public sealed record ApiKeySummary(ApiKey Key, string OwnerEmail, ApiKeyStatus Status, DateTime? LastUsedAtUtc, string? LastUsedFrom);

/// <summary>
/// Personal API keys: create (the secret is returned once and only its hash kept), list, revoke. Members see and
/// revoke their own keys; admins everyone's. Only admins may hold <see cref="ApiKeyScopes.Manage"/>.
/// </summary>
public sealed partial class PersonalApiKeys(AppDbContext db, ApiKeyUse uses, TimeProvider time, ILogger<PersonalApiKeys> logger)
{
    public async Task<ApiKeyCreation> CreateAsync(KeyViewer owner, NewApiKey request, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var errors = new Dictionary<string, string>();
        var name = request.Name?.Trim() ?? "";
        if (name.Length == 0)
        {
            errors["Name"] = "Give the key a name, e.g. the tool that will use it.";
        }
        else if (name.Length > ApiKeyRules.MaxNameLength)
        {
            errors["Name"] = $"Use at most {ApiKeyRules.MaxNameLength} characters.";
        }
        if (request.ExpiresOn is { } expiresOn && expiresOn <= DateOnly.FromDateTime(now))
        {
            errors["ExpiresOn"] = "Choose a date after today, or none for a key that does not expire.";
        }
        if (request.Scopes == ApiKeyScopes.None)
        {
            errors["Scopes"] = "Choose at least one scope.";
        }
        else if (request.Scopes.HasFlag(ApiKeyScopes.Manage) && !owner.IsAdmin)
        {
            errors["Scopes"] = "Only administrators may create keys with the manage scope.";
        }
        if (errors.Count > 0)
        {
            return new ApiKeyCreation(null, null, errors);
        }

        var secret = ApiKeySecret.New();
        var key = new ApiKey
        {
            UserId = owner.UserId,
            Name = name,
            Scopes = request.Scopes,
            Priority = request.Priority,
            SecretHash = secret.Hash,
            Prefix = secret.Prefix,
            LastFour = secret.LastFour,
            CreatedAtUtc = now,
            ExpiresAtUtc = request.ExpiresOn?.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        LogCreated(key.Id, owner.UserId, key.Scopes);
        return new ApiKeyCreation(key, secret.Secret, errors);
    }

    /// <summary>The viewer's keys, or everyone's for an admin; newest first.</summary>
    public async Task<IReadOnlyList<ApiKeySummary>> ListAsync(KeyViewer viewer, CancellationToken cancellationToken = default)
    {
        var rows = await Visible(viewer)
            .OrderByDescending(key => key.CreatedAtUtc).ThenByDescending(key => key.Id)
            .Join(db.Users, key => key.UserId, user => user.Id, (key, user) => new { Key = key, user.Email })
            .ToListAsync(cancellationToken);
        return rows.Select(row => Summarise(row.Key, row.Email ?? "")).ToList();
    }

    /// <summary>One key the viewer may see, or null (another member's key is "not found").</summary>
    public async Task<ApiKeySummary?> FindAsync(KeyViewer viewer, int id, CancellationToken cancellationToken = default)
    {
        var row = await Visible(viewer).Where(key => key.Id == id)
            .Join(db.Users, key => key.UserId, user => user.Id, (key, user) => new { Key = key, user.Email })
            .FirstOrDefaultAsync(cancellationToken);
        return row is null ? null : Summarise(row.Key, row.Email ?? "");
    }

    /// <summary>Revokes a key the viewer may see, at once; false when there is none.</summary>
    public async Task<bool> RevokeAsync(KeyViewer viewer, int id, CancellationToken cancellationToken = default)
    {
        var key = await Visible(viewer).AsTracking().FirstOrDefaultAsync(candidate => candidate.Id == id, cancellationToken);
        if (key is null)
        {
            return false;
        }
        if (key.RevokedAtUtc is null)
        {
            key.RevokedAtUtc = time.GetUtcNow().UtcDateTime;
            await db.SaveChangesAsync(cancellationToken);
            LogRevoked(key.Id, key.UserId, viewer.UserId);
        }
        return true;
    }

    /// <summary>The key whose secret hashes to <paramref name="hash"/>, whatever its status, read without tracking.</summary>
    public Task<ApiKey?> FindByHashAsync(byte[] hash, CancellationToken cancellationToken = default) =>
        db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(key => key.SecretHash == hash, cancellationToken);

    private IQueryable<ApiKey> Visible(KeyViewer viewer) =>
        viewer.IsAdmin ? db.ApiKeys.AsNoTracking() : db.ApiKeys.AsNoTracking().Where(key => key.UserId == viewer.UserId);

    private ApiKeySummary Summarise(ApiKey key, string ownerEmail)
    {
        var unwritten = uses.Latest(key.Id);
        return new ApiKeySummary(key, ownerEmail, key.StatusAt(time.GetUtcNow().UtcDateTime),
            unwritten?.AtUtc ?? key.LastUsedAtUtc, unwritten?.From ?? key.LastUsedFrom);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created API key {KeyId} for account {UserId} with scopes {Scopes}")]
    private partial void LogCreated(int keyId, string userId, ApiKeyScopes scopes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked API key {KeyId} of account {UserId} (by {ActorId})")]
    private partial void LogRevoked(int keyId, string userId, string actorId);
}
