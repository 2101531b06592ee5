using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MlxManager.Core.Data;
using MlxManager.Core.Hub;

namespace MlxManager.Core.Library;

/// <summary>Encrypts secrets before they are stored (the web host backs it with ASP.NET Core Data Protection).</summary>
public interface ISettingProtector
{
    string Protect(string plaintext);

    /// <exception cref="CryptographicException">When the ciphertext cannot be read (keys lost or value tampered with).</exception>
    string Unprotect(string ciphertext);
}

/// <summary>What the Settings page shows and the Models page uses.</summary>
/// <param name="SearchAuthors">Authors the Hub search is limited to; empty = any author.</param>
/// <param name="HubTokenHint">A masked hint of the stored token (<c>hf_…abcd</c>), never the token.</param>
/// <param name="HubTokenProblem">Why a stored token could not be read, if it could not.</param>
public sealed record ModelSettings(
    IReadOnlyList<string> SearchAuthors,
    int SearchPageSize,
    IReadOnlyList<string> ExtraModelFolders,
    string? HubTokenHint,
    string? HubTokenProblem)
{
    public static IReadOnlyList<string> DefaultAuthors { get; } = ["mlx-community", "lmstudio-community"];

    public const int DefaultPageSize = 30;
    public const int MaxPageSize = 100;

    public bool HasHubToken => HubTokenHint is not null;
}

/// <summary>
/// The models feature's settings in the <c>Settings</c> table, cached in memory and applied at once: the Hub client
/// reads the token through <see cref="IStoredHubToken"/> on every call, and extra folders go straight to the
/// <see cref="ModelLibrary"/>. Register as a singleton.
/// </summary>
public sealed partial class ModelSettingsStore : IStoredHubToken
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    private readonly IServiceScopeFactory _scopes;
    private readonly ISettingProtector _protector;
    private readonly ModelLibrary _library;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile Loaded? _loaded;

    public ModelSettingsStore(IServiceScopeFactory scopes, ISettingProtector protector, ModelLibrary library, TimeProvider timeProvider, ILogger<ModelSettingsStore>? logger = null)
    {
        _scopes = scopes;
        _protector = protector;
        _library = library;
        _time = timeProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public async Task<ModelSettings> GetAsync(CancellationToken cancellationToken = default) =>
        (await LoadAsync(cancellationToken).ConfigureAwait(false)).Settings;

    /// <summary>The stored token in clear, for the Hub client only.</summary>
    async ValueTask<string?> IStoredHubToken.GetAsync(CancellationToken cancellationToken) =>
        (await LoadAsync(cancellationToken).ConfigureAwait(false)).Token;

    public Task SaveSearchAsync(IReadOnlyList<string> authors, int pageSize, string? userId, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, ModelSettings.MaxPageSize);
        return WriteAsync(new Dictionary<string, string?>
        {
            [ModelSettingKeys.SearchAuthors] = JsonSerializer.Serialize(authors, Json),
            [ModelSettingKeys.SearchPageSize] = pageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, userId, cancellationToken);
    }

    public Task SaveExtraFoldersAsync(IReadOnlyList<string> folders, string? userId, CancellationToken cancellationToken = default) =>
        WriteAsync(new Dictionary<string, string?> { [ModelSettingKeys.ExtraModelFolders] = JsonSerializer.Serialize(folders, Json) }, userId, cancellationToken);

    /// <summary>Stores a new token (protected), replacing any earlier one.</summary>
    public Task SetHubTokenAsync(string token, string? userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        return WriteAsync(new Dictionary<string, string?> { [ModelSettingKeys.HubToken] = _protector.Protect(token.Trim()) }, userId, cancellationToken);
    }

    public Task ClearHubTokenAsync(string? userId, CancellationToken cancellationToken = default) =>
        WriteAsync(new Dictionary<string, string?> { [ModelSettingKeys.HubToken] = null }, userId, cancellationToken);

    /// <summary><c>hf_…abcd</c>: enough to recognise a token, not to use it.</summary>
    public static string Mask(string token)
    {
        var trimmed = token.Trim();
        var prefix = trimmed.StartsWith("hf_", StringComparison.Ordinal) ? "hf_" : string.Empty;
        return trimmed.Length <= prefix.Length + 8 ? $"{prefix}…" : $"{prefix}…{trimmed[^4..]}";
    }

    /// <summary>Forgets the cache so the next read goes to the database (another process may have written).</summary>
    public void Reload() => _loaded = null;

    private async Task WriteAsync(IReadOnlyDictionary<string, string?> values, string? userId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using (var scope = _scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                var keys = values.Keys.ToList();
                var rows = await db.Settings.Where(s => keys.Contains(s.Key)).ToDictionaryAsync(s => s.Key, cancellationToken).ConfigureAwait(false);
                var now = _time.GetUtcNow().UtcDateTime;
                foreach (var (key, value) in values)
                {
                    if (value is null)
                    {
                        if (rows.TryGetValue(key, out var existing))
                        {
                            db.Settings.Remove(existing);
                        }
                    }
                    else if (rows.TryGetValue(key, out var row))
                    {
                        row.Value = value;
                        row.UpdatedAtUtc = now;
                        row.UpdatedBy = userId;
                    }
                    else
                    {
                        db.Settings.Add(new AppSetting { Key = key, Value = value, UpdatedAtUtc = now, UpdatedBy = userId });
                    }
                }

                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                LogSaved(_logger, string.Join(", ", keys), userId ?? "(system)");
            }

            _loaded = null;
        }
        finally
        {
            _gate.Release();
        }

        await LoadAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<Loaded> LoadAsync(CancellationToken cancellationToken)
    {
        if (_loaded is { } cached)
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loaded is { } again)
            {
                return again;
            }

            Dictionary<string, string> values;
            await using (var scope = _scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                values = await db.Settings.AsNoTracking().ToDictionaryAsync(s => s.Key, s => s.Value, cancellationToken).ConfigureAwait(false);
            }

            string? token = null;
            string? problem = null;
            if (values.TryGetValue(ModelSettingKeys.HubToken, out var protectedToken))
            {
                try
                {
                    token = _protector.Unprotect(protectedToken);
                }
                catch (CryptographicException exception)
                {
                    LogTokenUnreadable(_logger, exception);
                    problem = "The stored token can no longer be decrypted (the data-protection keys changed); set it again.";
                }
            }

            var settings = new ModelSettings(
                ReadList(values, ModelSettingKeys.SearchAuthors) ?? ModelSettings.DefaultAuthors,
                values.TryGetValue(ModelSettingKeys.SearchPageSize, out var size) && int.TryParse(size, out var pageSize) && pageSize is >= 1 and <= ModelSettings.MaxPageSize ? pageSize : ModelSettings.DefaultPageSize,
                ReadList(values, ModelSettingKeys.ExtraModelFolders) ?? [],
                token is null ? null : Mask(token),
                problem);
            _library.SetAdditionalFolders(settings.ExtraModelFolders);
            var loaded = new Loaded(settings, token);
            _loaded = loaded;
            return loaded;
        }
        finally
        {
            _gate.Release();
        }
    }

    private IReadOnlyList<string>? ReadList(Dictionary<string, string> values, string key)
    {
        if (!values.TryGetValue(key, out var text))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<List<string>>(text, Json) ?? [];
        }
        catch (JsonException exception)
        {
            LogBadValue(_logger, exception, key);
            return null;
        }
    }

    private sealed record Loaded(ModelSettings Settings, string? Token);

    [LoggerMessage(Level = LogLevel.Information, Message = "Settings {Keys} saved by {User}")]
    private static partial void LogSaved(ILogger logger, string keys, string user);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stored Hub token could not be decrypted")]
    private static partial void LogTokenUnreadable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Setting {Key} is not a JSON list; using the default")]
    private static partial void LogBadValue(ILogger logger, Exception exception, string key);
}
