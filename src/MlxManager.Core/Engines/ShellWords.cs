using System.Text;

namespace MlxManager.Core.Engines;

/// <summary>
/// Splits a command-line fragment into words the way a POSIX shell would — whitespace, single quotes,
/// double quotes and backslash escapes, <c>#</c> comments — and quotes words back for display.
/// Nothing is expanded and nothing is run: the words become an argument list. Shell operators
/// (<c>| &amp; ; &lt; &gt; ( )</c> and backticks) are rejected unless quoted, because they would not do
/// what they do in a shell.
/// </summary>
public static class ShellWords
{
    /// <summary>Splits <paramref name="text"/>; on failure the result carries one clear error and no words.</summary>
    public static ShellWordsResult Parse(string? text)
    {
        var words = new List<string>();
        var warnings = new List<string>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return new ShellWordsResult(words, null, warnings);
        }

        var word = new StringBuilder();
        var inWord = false;
        var warnedDollar = false;
        var i = 0;

        void EndWord()
        {
            if (inWord)
            {
                words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
        }

        void WarnDollar()
        {
            if (!warnedDollar)
            {
                warnedDollar = true;
                warnings.Add("'$' is passed literally: variables are not expanded because no shell is involved.");
            }
        }

        while (i < text.Length)
        {
            var c = text[i];
            switch (c)
            {
                case ' ' or '\t' or '\n' or '\r':
                    EndWord();
                    i++;
                    break;

                case '#' when !inWord:
                    while (i < text.Length && text[i] != '\n')
                    {
                        i++;
                    }

                    break;

                case '\\':
                    if (i + 1 >= text.Length)
                    {
                        return Failure("A trailing backslash escapes nothing; remove it or write \\\\ for a literal backslash.", warnings);
                    }

                    if (text[i + 1] == '\n')
                    {
                        i += 2; // line continuation
                    }
                    else if (text[i + 1] == '\r' && i + 2 < text.Length && text[i + 2] == '\n')
                    {
                        i += 3;
                    }
                    else
                    {
                        word.Append(text[i + 1]);
                        inWord = true;
                        i += 2;
                    }

                    break;

                case '\'':
                {
                    var close = text.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        return Failure($"Unbalanced single quote at position {i + 1}: every ' needs a closing '.", warnings);
                    }

                    word.Append(text, i + 1, close - i - 1);
                    inWord = true;
                    i = close + 1;
                    break;
                }

                case '"':
                {
                    var start = i;
                    i++;
                    inWord = true;
                    var closed = false;
                    while (i < text.Length)
                    {
                        var d = text[i];
                        if (d == '"')
                        {
                            closed = true;
                            i++;
                            break;
                        }

                        if (d == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$' or '`' or '\n')
                        {
                            if (text[i + 1] != '\n')
                            {
                                word.Append(text[i + 1]);
                            }

                            i += 2;
                            continue;
                        }

                        if (d is '$' or '`')
                        {
                            WarnDollar();
                        }

                        word.Append(d);
                        i++;
                    }

                    if (!closed)
                    {
                        return Failure($"Unbalanced double quote at position {start + 1}: every \" needs a closing \".", warnings);
                    }

                    break;
                }

                case '|' or '&' or ';' or '<' or '>' or '(' or ')' or '`':
                    return Failure(
                        $"'{c}' at position {i + 1} is a shell operator, but extra arguments are passed straight to the engine without a shell. Quote it if you mean the character itself.",
                        warnings);

                default:
                    if (c == '$')
                    {
                        WarnDollar();
                    }

                    word.Append(c);
                    inWord = true;
                    i++;
                    break;
            }
        }

        EndWord();
        return new ShellWordsResult(words, null, warnings);
    }

    /// <summary>Splits <paramref name="text"/> into words, or throws <see cref="FormatException"/> with a clear message.</summary>
    public static IReadOnlyList<string> Split(string? text)
    {
        var result = Parse(text);
        return result.Error is null ? result.Words : throw new FormatException(result.Error);
    }

    /// <summary>
    /// Quotes one word so that a POSIX shell would read it back unchanged: plain words stay as they are,
    /// anything else is single-quoted (a single quote inside becomes <c>'\''</c>). For display only.
    /// </summary>
    public static string Quote(string word)
    {
        if (word.Length == 0)
        {
            return "''";
        }

        foreach (var c in word)
        {
            if (!IsPlain(c))
            {
                return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
            }
        }

        return word;
    }

    /// <summary>Quotes each word with <see cref="Quote"/> and joins them with spaces.</summary>
    public static string Join(IEnumerable<string> words) => string.Join(' ', words.Select(Quote));

    private static bool IsPlain(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/' or ':' or '=' or '@' or '%' or '+' or ',';

    private static ShellWordsResult Failure(string error, List<string> warnings) => new([], error, warnings);
}

/// <summary>Words in order, or an <see cref="Error"/>; warnings point at things a shell user might expect to work.</summary>
public sealed record ShellWordsResult(IReadOnlyList<string> Words, string? Error, IReadOnlyList<string> Warnings)
{
    public bool IsValid => Error is null;
}
