namespace MlxManager.Core.Gateway;

/// <summary>
/// The names a profile answers to on the gateway: its own name, its gateway names (aliases) and — when it is the only
/// profile serving it, or the one marked default — its model's repo id. Names are compared case-insensitively.
/// </summary>
public static class GatewayNames
{
    /// <summary>Longest gateway name accepted (OpenAI model ids are short; this leaves room for repo-like names).</summary>
    public const int MaxLength = 100;

    /// <summary>How gateway names are compared: ignoring case, like profile names.</summary>
    public static StringComparer Comparer => StringComparer.OrdinalIgnoreCase;

    /// <summary>The names of a <see cref="Profiles.Profile.GatewayNames"/> value: split on commas and line breaks, trimmed, empty ones dropped.</summary>
    public static IReadOnlyList<string> Parse(string? value) =>
        string.IsNullOrWhiteSpace(value)
            ? []
            : value.Split([',', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Why <paramref name="name"/> cannot be a gateway name, or null when it can.</summary>
    public static string? Problem(string name)
    {
        if (name.Length > MaxLength)
        {
            return $"The gateway name \"{name[..20]}…\" is {name.Length} characters long; keep it to {MaxLength}.";
        }

        return name.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/' or '@')
            ? null
            : $"The gateway name \"{name}\" may hold only letters, digits and - _ . : / @ (no spaces); separate names with commas.";
    }
}
