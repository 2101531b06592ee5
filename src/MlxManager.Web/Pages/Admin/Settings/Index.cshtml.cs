using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using MlxManager.Core.Hub;
using MlxManager.Core.Library;
using MlxManager.Core.Usage;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Pages.Admin.Settings;

/// <summary>One effective Hugging Face value and where it came from.</summary>
public sealed record EffectiveValue(string Name, string Value, string Source);

/// <summary>
/// Admin settings of the models feature: the Hub token (set, replace, clear; shown masked only), the authors the
/// Hub search is limited to, its page size, extra read-only model folders; and the effective HF_* values with their
/// sources. Stored in the database and applied at once.
/// </summary>
public sealed partial class IndexModel(ModelSettingsStore store, ModelLibrary library, HfEnvironment environment, IHubConnectionSource connections, IConfiguration configuration, UsageQuotas quotas) : PageModel
{
    public ModelSettings Current { get; private set; } = null!;

    public IReadOnlyList<EffectiveValue> Effective { get; private set; } = [];

    public HubConnection Connection { get; private set; } = null!;

    public IReadOnlyList<string> ConfiguredFolders { get; private set; } = [];

    [BindProperty]
    public string? Token { get; set; }

    [BindProperty]
    public string? Authors { get; set; }

    [BindProperty]
    public string? PageSize { get; set; }

    [BindProperty]
    public string? Folders { get; set; }

    /// <summary>Default tokens per UTC day for users without their own quota; empty or 0: no limit.</summary>
    [BindProperty]
    public string? DefaultTokensPerDay { get; set; }

    /// <summary>Default gateway requests and chat turns at once per user; empty or 0: no limit.</summary>
    [BindProperty]
    public string? DefaultConcurrentRequests { get; set; }

    public string? Message { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(fillForms: true, cancellationToken);

    public async Task<IActionResult> OnPostTokenAsync(CancellationToken cancellationToken)
    {
        var token = Token?.Trim();
        if (string.IsNullOrEmpty(token))
        {
            ModelState.AddModelError(nameof(Token), "Paste a token (it starts with hf_), or use Clear to remove the stored one.");
        }
        else if (token.Length > 512 || token.Any(char.IsWhiteSpace))
        {
            ModelState.AddModelError(nameof(Token), "A token is one word without spaces, at most 512 characters.");
        }

        if (!ModelState.IsValid)
        {
            Token = null;
            await LoadAsync(fillForms: false, cancellationToken);
            return Page();
        }

        await store.SetHubTokenAsync(token!, AccountClaims.UserId(User), cancellationToken);
        Token = null;
        return await DoneAsync($"Token saved ({ModelSettingsStore.Mask(token!)}); Hub calls use it from now on.", cancellationToken);
    }

    public async Task<IActionResult> OnPostClearTokenAsync(CancellationToken cancellationToken)
    {
        await store.ClearHubTokenAsync(AccountClaims.UserId(User), cancellationToken);
        return await DoneAsync("Stored token removed.", cancellationToken);
    }

    public async Task<IActionResult> OnPostSearchAsync(CancellationToken cancellationToken)
    {
        var authors = Split(Authors);
        foreach (var author in authors.Where(a => !AuthorPattern().IsMatch(a)))
        {
            ModelState.AddModelError(nameof(Authors), $"\"{author}\" is not a Hub user or organisation name (letters, digits, '-', '_', '.').");
        }

        if (!int.TryParse(PageSize, out var pageSize) || pageSize is < 1 or > ModelSettings.MaxPageSize)
        {
            ModelState.AddModelError(nameof(PageSize), $"Use a whole number from 1 to {ModelSettings.MaxPageSize}.");
        }

        if (!ModelState.IsValid)
        {
            await LoadAsync(fillForms: false, cancellationToken);
            return Page();
        }

        await store.SaveSearchAsync(authors, pageSize, AccountClaims.UserId(User), cancellationToken);
        return await DoneAsync(authors.Count == 0 ? "Search settings saved: any author." : $"Search settings saved: {string.Join(", ", authors)}.", cancellationToken);
    }

    public async Task<IActionResult> OnPostFoldersAsync(CancellationToken cancellationToken)
    {
        var folders = (Folders ?? string.Empty).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        foreach (var folder in folders)
        {
            if (!Path.IsPathFullyQualified(folder))
            {
                ModelState.AddModelError(nameof(Folders), $"\"{folder}\" is not an absolute path.");
            }
            else if (!Directory.Exists(folder))
            {
                ModelState.AddModelError(nameof(Folders), $"\"{folder}\" does not exist or cannot be read.");
            }
        }

        if (!ModelState.IsValid)
        {
            await LoadAsync(fillForms: false, cancellationToken);
            return Page();
        }

        await store.SaveExtraFoldersAsync(folders, AccountClaims.UserId(User), cancellationToken);
        library.Invalidate();
        return await DoneAsync(folders.Count == 0 ? "No extra folders." : $"Extra folders saved; the library now also reads {folders.Count} folder{(folders.Count == 1 ? "" : "s")}.", cancellationToken);
    }

    public async Task<IActionResult> OnPostQuotasAsync(CancellationToken cancellationToken)
    {
        var tokens = QuotaField.Parse(DefaultTokensPerDay, long.MaxValue);
        var concurrent = QuotaField.Parse(DefaultConcurrentRequests, 10_000);
        if (!tokens.Valid)
        {
            ModelState.AddModelError(nameof(DefaultTokensPerDay), "Use a whole number of tokens, or leave empty for no limit.");
        }

        if (!concurrent.Valid)
        {
            ModelState.AddModelError(nameof(DefaultConcurrentRequests), "Use a whole number up to 10000, or leave empty for no limit.");
        }

        if (!ModelState.IsValid)
        {
            await LoadAsync(fillForms: false, cancellationToken);
            return Page();
        }

        var defaults = new QuotaLimits(tokens.Value is > 0 ? tokens.Value : null, concurrent.Value is > 0 ? (int)concurrent.Value : null);
        await quotas.SaveDefaultsAsync(defaults, AccountClaims.UserId(User), cancellationToken);
        return await DoneAsync($"Default quota saved: {QuotaText.Tokens(defaults.TokensPerDay)}, {QuotaText.Concurrent(defaults.ConcurrentRequests)}.", cancellationToken);
    }

    private async Task<IActionResult> DoneAsync(string message, CancellationToken cancellationToken)
    {
        Message = message;
        ModelState.Clear();
        await LoadAsync(fillForms: true, cancellationToken);
        return Page();
    }

    private static List<string> Split(string? text) =>
        (text ?? string.Empty).Split([',', '\n', ' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    private async Task LoadAsync(bool fillForms, CancellationToken cancellationToken)
    {
        Current = await store.GetAsync(cancellationToken);
        Connection = await connections.GetAsync(cancellationToken);
        ConfiguredFolders = configuration.GetSection(LibraryOptions.SectionName + ":ExtraModelFolders").Get<List<string>>() ?? [];
        if (fillForms)
        {
            Authors = string.Join('\n', Current.SearchAuthors);
            PageSize = Current.SearchPageSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Folders = string.Join('\n', Current.ExtraModelFolders);
            DefaultTokensPerDay = quotas.Defaults.TokensPerDay?.ToString(System.Globalization.CultureInfo.InvariantCulture);
            DefaultConcurrentRequests = quotas.Defaults.ConcurrentRequests?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        Effective =
        [
            new("HF_ENDPOINT", environment.Endpoint, Source("Endpoint", ["HF_ENDPOINT"], "default")),
            new("HF_HUB_CACHE", environment.HubCache, Source("HubCache", ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"], "default: $HF_HOME/hub")),
            new("HF_HOME", environment.HfHome, Environment.GetEnvironmentVariable("HF_HOME") is { Length: > 0 } ? "environment variable HF_HOME" : "default (XDG_CACHE_HOME or ~/.cache)/huggingface"),
            new("HF_HUB_OFFLINE", environment.Offline ? "on: the Hub is never contacted" : "off", Source("Offline", ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"], "default")),
            new("Token", Connection.Token is null ? "none" : ModelSettingsStore.Mask(Connection.Token), Connection.TokenSource),
        ];
    }

    private string Source(string configKey, string[] variables, string fallback)
    {
        if (configuration[$"MlxManager:HuggingFace:{configKey}"] is { Length: > 0 })
        {
            return $"configuration MlxManager:HuggingFace:{configKey}";
        }

        return variables.FirstOrDefault(v => Environment.GetEnvironmentVariable(v) is { Length: > 0 }) is { } variable
            ? $"environment variable {variable}"
            : fallback;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")]
    private static partial Regex AuthorPattern();
}
