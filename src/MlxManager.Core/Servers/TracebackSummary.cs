namespace MlxManager.Core.Servers;

/// <summary>
/// The exception a Python traceback ends with, for the one-line reason of a failed start: the last unindented
/// <c>Name: message</c> line after the last line ending in <c>Traceback (most recent call last):</c>. Only a traceback's own
/// structure counts; words like "Error" elsewhere in the output are not looked at.
/// </summary>
public static class TracebackSummary
{
    /// <summary>E.g. <c>ValueError: Model type frobnicator not supported.</c>, or null when the lines hold no traceback.</summary>
    public static string? LastException(IReadOnlyList<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var start = -1;
        for (var i = lines.Count - 1; i >= 0; i--)
        {
            // Python prints it at the start of a line; uvicorn's logger prefixes it ("ERROR:    Traceback …").
            if (lines[i].EndsWith("Traceback (most recent call last):", StringComparison.Ordinal))
            {
                start = i;
                break;
            }
        }

        if (start < 0)
        {
            return null;
        }

        string? last = null;
        for (var i = start + 1; i < lines.Count; i++)
        {
            if (IsExceptionLine(lines[i]))
            {
                last = lines[i].Trim();
            }
        }

        return last;
    }

    private static bool IsExceptionLine(string line)
    {
        if (line.Length == 0 || !(char.IsAsciiLetter(line[0]) || line[0] == '_'))
        {
            return false;
        }

        var i = 0;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or '.'))
        {
            i++;
        }

        // "ValueError: …" or "module.SomeError: …": a CamelCase (or dotted) name, so log prefixes such as
        // uvicorn's "ERROR:    Application startup failed." after a traceback are not taken for its exception.
        if (i == 0 || i >= line.Length || line[i] != ':')
        {
            return false;
        }

        var name = line.AsSpan(0, i);
        var type = name[(name.LastIndexOf('.') + 1)..];
        return type.Length > 0 && char.IsUpper(type[0]) && type.ContainsAnyInRange('a', 'z');
    }
}
