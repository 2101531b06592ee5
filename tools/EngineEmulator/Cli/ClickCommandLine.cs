using System.Text;

namespace MlxManager.EngineEmulator.Cli;

/// <summary>Parses and documents a command line the way Python's <c>click</c> does for a group with one
/// subcommand (mlx-openai-server's <c>launch</c>): no prefix abbreviations, an option's value is the next
/// argument whatever it looks like, the first unknown option stops with <c>No such option</c> (plus
/// difflib suggestions), errors as <c>Usage:</c> / <c>Try '… --help' for help.</c> / <c>Error: …</c> with exit 2.</summary>
public sealed class ClickCommandLine(string prog, string command, string commandHelp, IReadOnlyList<OptionSpec> options)
{
    public IReadOnlyList<OptionSpec> Options { get; } = options;

    /// <summary>What the group's <c>--version</c> prints (its <c>version_option</c> message), or null without one.</summary>
    public string? Version { get; init; }

    /// <summary>mlx-openai-server's entry point inserts <c>launch</c> when the first argument is missing or
    /// starts with a dash, so <c>mlx-openai-server --model-path X</c> works and <c>--help</c> shows launch's help.</summary>
    public CommandLineOutcome Parse(IReadOnlyList<string> args)
    {
        var list = args.ToList();
        // The group's click.version_option (app/cli.py): handled by the group, before any subcommand.
        if (list.Count > 0 && list[0] == "--version" && Version is { } version)
            return CommandLineOutcome.Help(version);
        if (list.Count == 0 || list[0].StartsWith('-')) list.Insert(0, command);
        if (list[0] != command)
            return GroupError($"No such command {ArgparseCommandLine.PythonRepr(list[0])}.");
        return ParseCommand(list.Skip(1).ToList());
    }

    CommandLineOutcome ParseCommand(List<string> args)
    {
        var raw = new List<(OptionSpec Option, string? Value)>();
        var extra = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                extra.AddRange(args.Skip(i + 1));
                break;
            }
            if (!arg.StartsWith('-') || arg == "-")
            {
                extra.Add(arg);
                continue;
            }
            string name = arg;
            string? explicitValue = null;
            if (arg.IndexOf('=') is var eq and > 0)
            {
                name = arg[..eq];
                explicitValue = arg[(eq + 1)..];
            }
            if (name == "--help")
                return CommandLineOutcome.Help(FormatHelp());
            var option = Options.FirstOrDefault(o => o.Spellings.Contains(name));
            if (option is null)
            {
                var possibilities = CloseMatches(name, Options.SelectMany(o => o.Spellings).Append("--help").ToList());
                var message = $"No such option: {name}";
                if (possibilities.Count == 1) message += $" Did you mean {possibilities[0]}?";
                else if (possibilities.Count > 1) message += $" (Possible options: {string.Join(", ", possibilities.Order(StringComparer.Ordinal))})";
                return CommandError(message);
            }
            if (option.Kind == OptionKind.Flag)
            {
                if (explicitValue is not null) return ParserError($"Option '{name}' does not take a value.");
                raw.Add((option, null));
                continue;
            }
            if (explicitValue is null)
            {
                if (i + 1 >= args.Count) return ParserError($"Option '{name}' requires an argument.");
                explicitValue = args[++i];
            }
            raw.Add((option, explicitValue));
        }
        if (extra.Count > 0)
            return CommandError(extra.Count == 1
                ? $"Got unexpected extra argument ({extra[0]})"
                : $"Got unexpected extra arguments ({string.Join(' ', extra)})");

        var values = Options.ToDictionary(o => o.Dest, o => o.Kind == OptionKind.Flag ? (object?)(o.Default ?? false) : o.Default);
        foreach (var (option, value) in raw)
        {
            if (option.Kind == OptionKind.Flag)
            {
                values[option.Dest] = true;
                continue;
            }
            if (option.Choices is { } choices)
            {
                var chosen = option.UpperChoice
                    ? choices.FirstOrDefault(c => c.Equals(value, StringComparison.OrdinalIgnoreCase))?.ToUpperInvariant()
                    : choices.FirstOrDefault(c => c == value);
                if (chosen is null)
                    return CommandError(option.UpperChoice
                        ? $"Invalid value for '{option.Name}': invalid choice: {ArgparseCommandLine.PythonRepr(value!)}. (choose from {string.Join(", ", choices.Select(ArgparseCommandLine.PythonRepr))})"
                        : $"Invalid value for '{option.Name}': {ArgparseCommandLine.PythonRepr(value!)} is not one of {string.Join(", ", choices.Select(ArgparseCommandLine.PythonRepr))}.");
                values[option.Dest] = chosen;
                continue;
            }
            if (!option.TryConvert(value!, out var converted))
                return CommandError($"Invalid value for '{option.Name}': {ArgparseCommandLine.PythonRepr(value!)} is not a valid {(option.Kind == OptionKind.Int ? "integer" : "float")}.");
            values[option.Dest] = converted;
        }
        return CommandLineOutcome.Run(new ParsedOptions(values));
    }

    /// <summary>A usage error raised by the command itself after parsing (click.UsageError).</summary>
    public CommandLineOutcome CommandError(string message) =>
        CommandLineOutcome.UsageError($"Usage: {prog} {command} [OPTIONS]\nTry '{prog} {command} --help' for help.\n\nError: {message}\n");

    /// <summary>click's parser raises these without a context, so no usage header is printed.</summary>
    static CommandLineOutcome ParserError(string message) => CommandLineOutcome.UsageError($"Error: {message}\n");

    CommandLineOutcome GroupError(string message) =>
        CommandLineOutcome.UsageError($"Usage: {prog} [OPTIONS] COMMAND [ARGS]...\nTry '{prog} --help' for help.\n\nError: {message}\n");

    /// <summary>click's help page: usage, the docstring indented by two, then the options table with its
    /// first column capped at 30 characters and the text wrapped at 78.</summary>
    public string FormatHelp()
    {
        const int width = 78, colMax = 30, colSpacing = 2, indent = 2;
        var sb = new StringBuilder($"Usage: {prog} {command} [OPTIONS]\n\n");
        foreach (var paragraph in commandHelp.Split("\n\n"))
        {
            foreach (var line in ArgparseCommandLine.Wrap(paragraph, width - indent)) sb.Append(' ', indent).Append(line).Append('\n');
            sb.Append('\n');
        }
        sb.Append("Options:\n");
        var rows = Options.Select(o => (First: Invocation(o), Help: HelpText(o)))
            .Append((First: "--help", Help: "Show this message and exit."))
            .ToList();
        int firstCol = Math.Min(rows.Max(r => r.First.Length), colMax) + colSpacing;
        int textWidth = Math.Max(width - firstCol - indent, 10);
        foreach (var (first, help) in rows)
        {
            sb.Append(' ', indent).Append(first);
            var lines = ArgparseCommandLine.Wrap(help, textWidth);
            if (lines.Count == 0)
            {
                sb.Append('\n');
                continue;
            }
            if (first.Length <= firstCol - colSpacing) sb.Append(' ', firstCol - first.Length);
            else sb.Append('\n').Append(' ', firstCol + indent);
            sb.Append(lines[0]).Append('\n');
            foreach (var line in lines.Skip(1)) sb.Append(' ', firstCol + indent).Append(line).Append('\n');
        }
        return sb.ToString();
    }

    static string Invocation(OptionSpec option)
    {
        var names = string.Join(", ", option.Spellings);
        if (option.Kind == OptionKind.Flag) return names;
        var metavar = option.MetavarOverride ?? (option.Choices is { } choices && !option.UpperChoice
            ? "[" + string.Join("|", choices) + "]"
            : option.Kind switch { OptionKind.Int => "INTEGER", OptionKind.Float => "FLOAT", _ => "TEXT" });
        if (option.UpperChoice && option.Choices is { } upper) metavar = "[" + string.Join("|", upper) + "]";
        return $"{names} {metavar}";
    }

    static string HelpText(OptionSpec option) => option.Help;

    /// <summary>difflib.get_close_matches(word, possibilities, n=3, cutoff=0.6).</summary>
    public static List<string> CloseMatches(string word, IReadOnlyList<string> possibilities, int n = 3, double cutoff = 0.6) =>
        possibilities.Distinct()
            .Select(p => (Score: SequenceRatio(p, word), Text: p))
            .Where(x => x.Score >= cutoff)
            .OrderByDescending(x => x.Score).ThenByDescending(x => x.Text, StringComparer.Ordinal)
            .Take(n)
            .Select(x => x.Text)
            .ToList();

    /// <summary>difflib.SequenceMatcher(None, a, b).ratio(): 2·M/T with M the characters in matching blocks,
    /// found by recursively taking the longest common run (earliest in a, then in b).</summary>
    public static double SequenceRatio(string a, string b)
    {
        int total = a.Length + b.Length;
        return total == 0 ? 1.0 : 2.0 * MatchingCharacters(a, 0, a.Length, b, 0, b.Length) / total;
    }

    static int MatchingCharacters(string a, int alo, int ahi, string b, int blo, int bhi)
    {
        int bestI = alo, bestJ = blo, bestSize = 0;
        for (int i = alo; i < ahi; i++)
        {
            for (int j = blo; j < bhi; j++)
            {
                int k = 0;
                while (i + k < ahi && j + k < bhi && a[i + k] == b[j + k]) k++;
                if (k > bestSize)
                {
                    bestI = i;
                    bestJ = j;
                    bestSize = k;
                }
            }
        }
        if (bestSize == 0) return 0;
        return bestSize
            + MatchingCharacters(a, alo, bestI, b, blo, bestJ)
            + MatchingCharacters(a, bestI + bestSize, ahi, b, bestJ + bestSize, bhi);
    }
}
