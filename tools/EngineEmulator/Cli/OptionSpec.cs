using System.Globalization;
using System.Text.Json.Nodes;

namespace MlxManager.EngineEmulator.Cli;

/// <summary>How an option's value is converted, named after the Python converter the real CLI uses
/// (the name appears in argparse's "invalid int value" errors).</summary>
public enum OptionKind
{
    /// <summary>No value: <c>store_true</c> / <c>is_flag</c>.</summary>
    Flag,
    String,
    Int,
    Float,
    /// <summary><c>type=json.loads</c>.</summary>
    Json,
    /// <summary><c>type=_parse_size</c>: a byte count with an optional K/M/G/T suffix.</summary>
    Size,
    /// <summary><c>type=lambda x: x.split(",")</c>.</summary>
    CommaList,
}

/// <summary>One command-line option of an emulated engine.</summary>
public sealed record OptionSpec(string Name, OptionKind Kind)
{
    /// <summary>Other spellings that set the same destination (argparse's extra option strings).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];
    /// <summary>Default as the Python side would hold it; null means <c>None</c>.</summary>
    public object? Default { get; init; }
    public IReadOnlyList<string>? Choices { get; init; }
    /// <summary>click's case-insensitive choice that returns the upper-case spelling.</summary>
    public bool UpperChoice { get; init; }
    public string Help { get; init; } = "";
    public string? MetavarOverride { get; init; }
    public string? DestOverride { get; init; }

    public string Dest => DestOverride ?? Name.TrimStart('-').Replace('-', '_');
    public string Metavar => MetavarOverride ?? Dest.ToUpperInvariant();
    public IEnumerable<string> Spellings => [Name, .. Aliases];

    /// <summary>The converter's Python name, as argparse prints it.</summary>
    public string PythonTypeName => Kind switch
    {
        OptionKind.Int => "int",
        OptionKind.Float => "float",
        OptionKind.Json => "loads",
        OptionKind.Size => "_parse_size",
        OptionKind.CommaList => "<lambda>",
        _ => "str",
    };

    /// <summary>Converts a raw value; returns false when the Python converter would raise.</summary>
    public bool TryConvert(string raw, out object? value)
    {
        value = null;
        switch (Kind)
        {
            case OptionKind.String:
                value = raw;
                return true;
            case OptionKind.Int:
                if (PythonNumbers.TryParseInt(raw, out var i)) { value = i; return true; }
                return false;
            case OptionKind.Float:
                if (PythonNumbers.TryParseFloat(raw, out var d)) { value = d; return true; }
                return false;
            case OptionKind.Json:
                try
                {
                    value = JsonNode.Parse(raw);
                    return true;
                }
                catch (System.Text.Json.JsonException)
                {
                    return false;
                }
            case OptionKind.Size:
                if (PythonNumbers.TryParseSize(raw, out var size)) { value = size; return true; }
                return false;
            case OptionKind.CommaList:
                value = raw.Split(',');
                return true;
            default:
                return false;
        }
    }
}

/// <summary>Number parsing with Python's rules for <c>int()</c> and <c>float()</c>.</summary>
public static class PythonNumbers
{
    public static bool TryParseInt(string raw, out long value)
    {
        var s = raw.Trim();
        value = 0;
        if (s.Length == 0 || s.StartsWith('_') || s.EndsWith('_') || s.Contains("__", StringComparison.Ordinal)) return false;
        return long.TryParse(s.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    public static bool TryParseFloat(string raw, out double value)
    {
        var s = raw.Trim().ToLowerInvariant();
        value = 0;
        switch (s.TrimStart('+', '-'))
        {
            case "inf" or "infinity":
                value = s.StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
                return true;
            case "nan":
                value = double.NaN;
                return true;
        }
        if (s.Length == 0 || s.Contains("__", StringComparison.Ordinal)) return false;
        return double.TryParse(s.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>mlx_lm's <c>_parse_size</c>: leading digits and dots, then nothing, M, G, MB or GB (decimal).</summary>
    public static bool TryParseSize(string raw, out long value)
    {
        value = 0;
        int split = 0;
        while (split < raw.Length && (char.IsAsciiDigit(raw[split]) || raw[split] == '.')) split++;
        if (!decimal.TryParse(raw[..split], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var digits)) return false;
        long multiplier = raw[split..].Trim().ToUpperInvariant() switch
        {
            "" => 1,
            "M" or "MB" => 1_000_000,
            "G" or "GB" => 1_000_000_000,
            _ => 0,
        };
        if (multiplier == 0) return false;
        value = (long)(digits * multiplier);
        return true;
    }
}

/// <summary>The values an engine's command line produced, by destination name (<c>max_tokens</c>).</summary>
public sealed class ParsedOptions(IReadOnlyDictionary<string, object?> values)
{
    public IReadOnlyDictionary<string, object?> Values { get; } = values;

    public string? String(string dest) => Values.GetValueOrDefault(dest) as string;
    public long? Int(string dest) => Values.GetValueOrDefault(dest) is long l ? l : null;
    public double? Float(string dest) => Values.GetValueOrDefault(dest) switch { double d => d, long l => l, _ => null };
    public bool Flag(string dest) => Values.GetValueOrDefault(dest) is true;
    public JsonNode? Json(string dest) => Values.GetValueOrDefault(dest) as JsonNode;
}

/// <summary>What parsing a command line came to: options to run with, or text to print and an exit code.</summary>
public sealed record CommandLineOutcome(ParsedOptions? Options, int ExitCode, string StandardOutput, string StandardError)
{
    public static CommandLineOutcome Run(ParsedOptions options) => new(options, 0, "", "");
    public static CommandLineOutcome Help(string text) => new(null, 0, text, "");
    public static CommandLineOutcome UsageError(string text) => new(null, 2, "", text);
}
