namespace MlxManager.Core.Profiles;

/// <summary>
/// Parses a profile's environment variables: one <c>KEY=VALUE</c> per line, blank lines and
/// <c>#</c> comments ignored, an optional leading <c>export </c> tolerated (people paste from shell
/// files), and one pair of matching surrounding quotes removed from the value. Nothing is expanded:
/// <c>$HOME</c> stays literal, because the engine is started without a shell.
/// </summary>
public static class EnvironmentVariableList
{
    /// <summary>Parses <paramref name="text"/>; errors name the line and what is wrong with it.</summary>
    public static EnvironmentVariableParseResult Parse(string? text)
    {
        var variables = new List<KeyValuePair<string, string>>();
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return new EnvironmentVariableParseResult(variables, errors);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var lineNumber = i + 1;
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }

            var equals = line.IndexOf('=');
            if (equals < 0)
            {
                errors.Add($"Line {lineNumber}: \"{Shorten(line)}\" is not of the form KEY=VALUE.");
                continue;
            }

            var name = line[..equals].Trim();
            if (!IsValidName(name))
            {
                errors.Add(name.Length == 0
                    ? $"Line {lineNumber}: the variable name is missing before '='."
                    : $"Line {lineNumber}: \"{Shorten(name)}\" is not a valid variable name (letters, digits and '_', not starting with a digit).");
                continue;
            }

            if (!seen.Add(name))
            {
                errors.Add($"Line {lineNumber}: {name} is set more than once.");
                continue;
            }

            variables.Add(new KeyValuePair<string, string>(name, Unquote(line[(equals + 1)..].Trim())));
        }

        return new EnvironmentVariableParseResult(variables, errors);
    }

    /// <summary>True for a portable environment variable name: <c>[A-Za-z_][A-Za-z0-9_]*</c>.</summary>
    public static bool IsValidName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0]
            ? value[1..^1]
            : value;

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

/// <summary>The variables in the order written, and one message per line that could not be used.</summary>
public sealed record EnvironmentVariableParseResult(
    IReadOnlyList<KeyValuePair<string, string>> Variables,
    IReadOnlyList<string> Errors)
{
    public bool IsValid => Errors.Count == 0;
}
