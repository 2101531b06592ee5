using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MlxManager.EngineEmulator.Cli;

/// <summary>Parses and documents a command line the way Python's <c>argparse.ArgumentParser</c> does with its
/// defaults: <c>--flag value</c> and <c>--flag=value</c>, unambiguous prefixes of long options accepted
/// (<c>allow_abbrev=True</c>), <c>-h/--help</c>, errors as <c>usage: …</c> + <c>prog: error: …</c> on stderr with exit 2,
/// unknown arguments collected and reported at the end as <c>unrecognized arguments: …</c>.</summary>
public sealed partial class ArgparseCommandLine(string prog, string description, IReadOnlyList<OptionSpec> options)
{
    /// <summary>argparse formats for <c>COLUMNS - 2</c> characters (80 when there is no terminal).</summary>
    public int Width { get; init; } = DefaultWidth();

    public IReadOnlyList<OptionSpec> Options { get; } = options;

    static int DefaultWidth() =>
        (int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns > 0 ? columns : 80) - 2;

    public CommandLineOutcome Parse(IReadOnlyList<string> args)
    {
        var values = Options.ToDictionary(o => o.Dest, o => o.Kind == OptionKind.Flag ? (object?)(o.Default ?? false) : o.Default);
        var unrecognized = new List<string>();

        for (int i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                unrecognized.AddRange(args.Skip(i + 1));
                break;
            }
            if (!LooksLikeOption(arg))
            {
                unrecognized.Add(arg);
                continue;
            }
            string name = arg;
            string? explicitValue = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is var eq and > 0)
            {
                name = arg[..eq];
                explicitValue = arg[(eq + 1)..];
            }

            var matches = Match(name);
            if (matches.Count > 1)
                return Error($"ambiguous option: {arg} could match {string.Join(", ", matches.Select(m => m.Spelling))}");
            if (matches.Count == 0)
            {
                unrecognized.Add(arg);
                continue;
            }
            var option = matches[0].Option;
            if (ReferenceEquals(option, HelpOption))
            {
                if (explicitValue is not null)
                    return Error($"argument -h/--help: ignored explicit argument '{explicitValue}'");
                return CommandLineOutcome.Help(FormatHelp());
            }

            if (option.Kind == OptionKind.Flag)
            {
                if (explicitValue is not null)
                    return Error($"argument {Invocation(option)}: ignored explicit argument '{explicitValue}'");
                values[option.Dest] = true;
                continue;
            }

            string raw;
            if (explicitValue is not null) raw = explicitValue;
            else if (i + 1 < args.Count && !LooksLikeOption(args[i + 1])) raw = args[++i];
            else return Error($"argument {Invocation(option)}: expected one argument");

            if (!option.TryConvert(raw, out var value))
                return Error($"argument {Invocation(option)}: invalid {option.PythonTypeName} value: {PythonRepr(raw)}");
            if (option.Choices is { } choices && !choices.Contains(value as string ?? Convert.ToString(value, CultureInfo.InvariantCulture)))
                return Error($"argument {Invocation(option)}: invalid choice: {PythonRepr(raw)} (choose from {string.Join(", ", choices.Select(PythonRepr))})");
            values[option.Dest] = value;
        }

        if (unrecognized.Count > 0)
            return Error($"unrecognized arguments: {string.Join(' ', unrecognized)}");
        return CommandLineOutcome.Run(new ParsedOptions(values));
    }

    /// <summary>Exact option strings win; otherwise every long option the argument is a prefix of.</summary>
    List<(OptionSpec Option, string Spelling)> Match(string name)
    {
        var all = new[] { (Option: HelpOption, Spelling: "-h"), (Option: HelpOption, Spelling: "--help") }
            .Concat(Options.SelectMany(o => o.Spellings.Select(s => (Option: o, Spelling: s))))
            .ToList();
        var exact = all.Where(p => p.Spelling == name).ToList();
        if (exact.Count > 0 || !name.StartsWith("--", StringComparison.Ordinal) || name.Length < 3) return exact;
        return all.Where(p => p.Spelling.StartsWith("--", StringComparison.Ordinal) && p.Spelling.StartsWith(name, StringComparison.Ordinal)).ToList();
    }

    static readonly OptionSpec HelpOption = new("--help", OptionKind.Flag);

    /// <summary>argparse treats "-1" and "-2.5" as values because no option looks like a negative number.</summary>
    static bool LooksLikeOption(string arg) =>
        arg.Length > 1 && arg[0] == '-' && !NegativeNumber().IsMatch(arg);

    [GeneratedRegex(@"^-\d+$|^-\d*\.\d+$")]
    private static partial Regex NegativeNumber();

    static string Invocation(OptionSpec option) => string.Join("/", option.Spellings);

    CommandLineOutcome Error(string message) =>
        CommandLineOutcome.UsageError(FormatUsage() + $"{prog}: error: {message}\n");

    /// <summary>Python's <c>repr()</c> of a str: single quotes unless the text holds one and no double quote.</summary>
    public static string PythonRepr(string text)
    {
        char quote = text.Contains('\'') && !text.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder().Append(quote);
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when c == quote => "\\" + c,
                _ when c < ' ' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }
        return sb.Append(quote).ToString();
    }

    IEnumerable<string> UsageParts()
    {
        yield return "[-h]";
        foreach (var option in Options)
            yield return option.Kind == OptionKind.Flag ? $"[{option.Name}]" : $"[{option.Name} {MetavarText(option)}]";
    }

    static string MetavarText(OptionSpec option) =>
        option.Choices is { } choices && option.MetavarOverride is null ? "{" + string.Join(",", choices) + "}" : option.Metavar;

    /// <summary>The <c>usage:</c> block, wrapped as argparse wraps it: parts fill lines up to the width,
    /// continuation lines indented under the first option.</summary>
    public string FormatUsage()
    {
        const string prefix = "usage: ";
        var indent = new string(' ', prefix.Length + prog.Length + 1);
        var lines = new List<string>();
        var line = new List<string>();
        int lineLength = prefix.Length - 1;
        foreach (var part in new[] { prog }.Concat(UsageParts()))
        {
            if (lineLength + 1 + part.Length > Width && line.Count > 0)
            {
                lines.Add(indent + string.Join(' ', line));
                line.Clear();
                lineLength = indent.Length - 1;
            }
            line.Add(part);
            lineLength += part.Length + 1;
        }
        if (line.Count > 0) lines.Add(indent + string.Join(' ', line));
        lines[0] = lines[0][indent.Length..];
        return prefix + string.Join('\n', lines) + "\n";
    }

    /// <summary>The <c>-h</c> text: usage, description, then <c>options:</c> with help at column 24.</summary>
    public string FormatHelp()
    {
        const int helpPosition = 24;
        var sb = new StringBuilder(FormatUsage()).Append('\n');
        if (description.Length > 0) sb.Append(description).Append("\n\n");
        sb.Append("options:\n");
        AppendOption(sb, "-h, --help", "show this help message and exit", helpPosition);
        foreach (var option in Options)
        {
            var invocation = option.Kind == OptionKind.Flag
                ? string.Join(", ", option.Spellings)
                : string.Join(", ", option.Spellings.Select(s => $"{s} {MetavarText(option)}"));
            AppendOption(sb, invocation, ExpandHelp(option), helpPosition);
        }
        return sb.ToString();
    }

    static string ExpandHelp(OptionSpec option) =>
        option.Help.Replace("%(default)s", option.Default switch
        {
            null => "None",
            bool b => b ? "True" : "False",
            double d => d.ToString("0.0###", CultureInfo.InvariantCulture),
            _ => Convert.ToString(option.Default, CultureInfo.InvariantCulture),
        }, StringComparison.Ordinal);

    void AppendOption(StringBuilder sb, string invocation, string help, int helpPosition)
    {
        const string indent = "  ";
        var helpLines = Wrap(help, Width - helpPosition);
        if (indent.Length + invocation.Length <= helpPosition - 2)
            sb.Append(indent).Append(invocation.PadRight(helpPosition - indent.Length));
        else
            sb.Append(indent).Append(invocation).Append('\n').Append(' ', helpPosition);
        if (helpLines.Count == 0)
        {
            sb.Append('\n');
            return;
        }
        sb.Append(helpLines[0]).Append('\n');
        foreach (var line in helpLines.Skip(1)) sb.Append(' ', helpPosition).Append(line).Append('\n');
    }

    /// <summary>Greedy word wrap as Python's <c>textwrap.wrap</c> does it for argparse and click: whitespace
    /// collapsed, and hyphenated words may break after a hyphen that follows two letters and precedes a letter
    /// (so <c>image-generation</c> can end a line as <c>image-</c>).</summary>
    public static List<string> Wrap(string text, int width)
    {
        var chunks = new List<string>();
        foreach (var word in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (chunks.Count > 0) chunks.Add(" ");
            chunks.AddRange(HyphenChunks(word));
        }
        var lines = new List<string>();
        var current = new StringBuilder();
        foreach (var chunk in chunks)
        {
            if (chunk == " " && current.Length == 0) continue;
            if (current.Length + chunk.Length > width && current.Length > 0)
            {
                lines.Add(current.ToString().TrimEnd(' '));
                current.Clear();
                if (chunk == " ") continue;
            }
            current.Append(chunk);
        }
        if (current.Length > 0) lines.Add(current.ToString().TrimEnd(' '));
        return lines;
    }

    static IEnumerable<string> HyphenChunks(string word)
    {
        static bool Letter(char c) => char.IsLetter(c) || c == '_';
        int start = 0;
        for (int i = 2; i < word.Length - 2; i++)
        {
            if (word[i] != '-') continue;
            bool before = (Letter(word[i - 1]) && Letter(word[i - 2]))
                || (i >= 3 && Letter(word[i - 1]) && word[i - 2] == '-' && Letter(word[i - 3]));
            bool after = Letter(word[i + 1]) && (Letter(word[i + 2]) || (word[i + 2] == '-' && i + 3 < word.Length && Letter(word[i + 3])));
            if (!before || !after) continue;
            yield return word[start..(i + 1)];
            start = i + 1;
        }
        yield return word[start..];
    }
}
