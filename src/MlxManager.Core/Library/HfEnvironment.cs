using System.Text;
using System.Text.RegularExpressions;

namespace MlxManager.Core.Library;

/// <summary>
/// Hugging Face settings resolved from the environment exactly as huggingface_hub does, so the manager, mlx-lm
/// and huggingface-cli agree on where models live:
/// <c>HF_HOME</c> = $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface;
/// <c>HF_HUB_CACHE</c> = $HF_HUB_CACHE, else legacy $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub;
/// token file = $HF_TOKEN_PATH, else $HF_HOME/token; endpoint = $HF_ENDPOINT without trailing '/', else
/// https://huggingface.co; offline when $HF_HUB_OFFLINE (or $TRANSFORMERS_OFFLINE) is 1/ON/YES/TRUE.
/// Paths get '~' and $VAR expanded. Unlike Python, a variable set to an empty string counts as unset.
/// Tests and configuration override values with <c>with { HubCache = … }</c>.
/// </summary>
public sealed partial record HfEnvironment
{
    public const string DefaultEndpoint = "https://huggingface.co";

    private static readonly HashSet<string> TrueValues = new(StringComparer.OrdinalIgnoreCase) { "1", "ON", "YES", "TRUE" };

    public required string HfHome { get; init; }

    public required string HubCache { get; init; }

    public required string Endpoint { get; init; }

    public required string TokenPath { get; init; }

    public bool Offline { get; init; }

    /// <summary>$HF_TOKEN (or legacy $HUGGING_FACE_HUB_TOKEN), trimmed; never printed by <see cref="ToString"/>.</summary>
    public string? EnvironmentToken { get; init; }

    /// <summary>Resolves from the current process's environment and home directory.</summary>
    public static HfEnvironment FromProcess() =>
        Resolve(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>Resolves from any variable source (tests pass a dictionary lookup).</summary>
    public static HfEnvironment Resolve(Func<string, string?> getVariable, string homeDirectory)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        ArgumentException.ThrowIfNullOrWhiteSpace(homeDirectory);
        string? Get(string name) => getVariable(name) is { } value && !string.IsNullOrWhiteSpace(value) ? value : null;
        string Expand(string path) => ExpandPath(path, getVariable, homeDirectory);

        var hfHome = Expand(Get("HF_HOME") ?? Path.Combine(Get("XDG_CACHE_HOME") ?? Path.Combine(homeDirectory, ".cache"), "huggingface"));
        var hubCache = Expand(Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(hfHome, "hub"));
        var tokenPath = Expand(Get("HF_TOKEN_PATH") ?? Path.Combine(hfHome, "token"));
        var endpoint = (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/');
        var offline = IsTrue(getVariable("HF_HUB_OFFLINE") is { Length: > 0 } o ? o : getVariable("TRANSFORMERS_OFFLINE"));
        var token = (Get("HF_TOKEN") ?? Get("HUGGING_FACE_HUB_TOKEN"))?.Trim();

        return new HfEnvironment
        {
            HfHome = hfHome,
            HubCache = hubCache,
            TokenPath = tokenPath,
            Endpoint = endpoint,
            Offline = offline,
            EnvironmentToken = string.IsNullOrEmpty(token) ? null : token,
        };
    }

    /// <summary>The token to send to the Hub: $HF_TOKEN, else the trimmed content of the token file, else null.</summary>
    public string? ReadToken()
    {
        if (EnvironmentToken is not null)
        {
            return EnvironmentToken;
        }

        if (!File.Exists(TokenPath))
        {
            return null;
        }

        var token = File.ReadAllText(TokenPath, Encoding.UTF8).Trim();
        return token.Length == 0 ? null : token;
    }

    /// <summary>The cache folder of a model repository: <c>$HF_HUB_CACHE/models--org--name</c>.</summary>
    public string ModelFolder(string repoId) => Path.Combine(HubCache, HfCacheNames.ModelFolderName(repoId));

    /// <summary>The lock folder huggingface_hub keeps for a repository: <c>$HF_HUB_CACHE/.locks/models--org--name</c>.</summary>
    public string LocksFolder(string repoId) => Path.Combine(HubCache, ".locks", HfCacheNames.ModelFolderName(repoId));

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"HfHome = {HfHome}, HubCache = {HubCache}, Endpoint = {Endpoint}, TokenPath = {TokenPath}, Offline = {Offline}, EnvironmentToken = {(EnvironmentToken is null ? "(none)" : "(set)")}");
        return true;
    }

    private static bool IsTrue(string? value) => value is not null && TrueValues.Contains(value.Trim());

    // Python's os.path.expanduser then os.path.expandvars: "~" or "~/" at the start, then $NAME and ${NAME}
    // (unknown variables are left as they are).
    private static string ExpandPath(string path, Func<string, string?> getVariable, string home)
    {
        if (path == "~")
        {
            path = home;
        }
        else if (path.StartsWith("~/", StringComparison.Ordinal))
        {
            path = Path.Combine(home, path[2..]);
        }

        return VariablePattern().Replace(path, match =>
        {
            var name = match.Groups["braced"].Success ? match.Groups["braced"].Value : match.Groups["plain"].Value;
            return getVariable(name) ?? match.Value;
        });
    }

    [GeneratedRegex(@"\$(?:\{(?<braced>[^}]+)\}|(?<plain>[A-Za-z_][A-Za-z0-9_]*))")]
    private static partial Regex VariablePattern();
}
