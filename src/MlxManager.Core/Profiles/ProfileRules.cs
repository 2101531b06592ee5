using MlxManager.Core.Gateway;

namespace MlxManager.Core.Profiles;

/// <summary>Rules that compare a profile with the others: unique names and ports, suggestions for new ones.</summary>
public static class ProfileRules
{
    /// <summary>The first port suggested for a new profile.</summary>
    public const int FirstSuggestedPort = 8080;

    /// <summary>
    /// Errors when another profile (any id but <paramref name="candidate"/>'s) has the same name
    /// (case-insensitive, trimmed) or the same port, or when a name the gateway routes by — the profile's name or one of
    /// its gateway names — is already another profile's name or gateway name.
    /// </summary>
    public static ProfileValidationResult CheckUniqueness(Profile candidate, IEnumerable<Profile> existing)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var result = new ProfileValidationResult();
        var name = candidate.Name?.Trim() ?? "";
        foreach (var other in existing)
        {
            if (other.Id == candidate.Id && candidate.Id != 0)
            {
                continue;
            }

            if (name.Length > 0 && string.Equals(other.Name?.Trim(), name, StringComparison.OrdinalIgnoreCase))
            {
                result.AddError(ProfileField.Name, $"Another profile is already called \"{other.Name}\".");
            }

            if (other.Port == candidate.Port)
            {
                result.AddError(ProfileField.Port, $"Port {candidate.Port} is already used by the profile \"{other.Name}\".");
            }

            CheckGatewayNames(candidate, other, result);
        }

        return result;
    }

    private static void CheckGatewayNames(Profile candidate, Profile other, ProfileValidationResult result)
    {
        var otherAliases = GatewayNames.Parse(other.GatewayNames);
        foreach (var alias in GatewayNames.Parse(candidate.GatewayNames))
        {
            if (GatewayNames.Comparer.Equals(alias, other.Name?.Trim()))
            {
                result.AddError(ProfileField.GatewayNames, $"\"{alias}\" is the name of another profile; the gateway would not know which one is meant.");
            }
            else if (otherAliases.Contains(alias, GatewayNames.Comparer))
            {
                result.AddError(ProfileField.GatewayNames, $"The profile \"{other.Name}\" already has the gateway name \"{alias}\".");
            }
        }

        var name = candidate.Name?.Trim() ?? "";
        if (name.Length > 0 && otherAliases.Contains(name, GatewayNames.Comparer))
        {
            result.AddError(ProfileField.Name, $"\"{name}\" is a gateway name of the profile \"{other.Name}\"; choose another name.");
        }
    }

    /// <summary>
    /// The first port from <paramref name="start"/> upwards that no profile uses and that
    /// <paramref name="isFree"/> accepts (e.g. nothing else listens there); null if none is left.
    /// </summary>
    public static int? SuggestPort(IEnumerable<int> usedPorts, int start = FirstSuggestedPort, Func<int, bool>? isFree = null)
    {
        var used = usedPorts.ToHashSet();
        for (var port = Math.Max(1, start); port <= 65535; port++)
        {
            if (!used.Contains(port) && (isFree is null || isFree(port)))
            {
                return port;
            }
        }

        return null;
    }

    /// <summary>A name for a duplicate: "Name (copy)", then "Name (copy 2)", … not yet taken.</summary>
    public static string SuggestCopyName(string name, IEnumerable<string> existingNames)
    {
        var taken = existingNames.Select(n => n.Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var candidate = $"{name} (copy)";
        for (var n = 2; taken.Contains(candidate); n++)
        {
            candidate = $"{name} (copy {n})";
        }

        return candidate;
    }
}
