using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MlxManager.EngineEmulator.Python;

namespace MlxManager.EngineEmulator.Generation;

/// <summary>Decides which of the offered tools a message asks for: weather ("weather in Paris") and
/// arithmetic ("what is 12*7"), in the order they appear, with arguments shaped by each tool's schema.</summary>
public static partial class ToolIntent
{
    public static List<(string Name, string Arguments)> Find(string message, IReadOnlyList<ToolDefinition> tools)
    {
        var found = new List<(int Position, string Name, string Arguments)>();

        var weather = WeatherRequest().Match(message);
        if (weather.Success && tools.FirstOrDefault(t => t.Name.Contains("weather", StringComparison.OrdinalIgnoreCase)) is { } weatherTool)
        {
            var city = weather.Groups["city"].Value.Trim();
            found.Add((weather.Index, weatherTool.Name, Arguments(weatherTool, ["location", "city", "place", "query", "q", "name"], city, null)));
        }

        var sum = Arithmetic().Match(message);
        if (sum.Success && tools.FirstOrDefault(IsArithmeticTool) is { } mathTool)
        {
            var op = sum.Groups["op"].Value is "x" or "×" ? "*" : sum.Groups["op"].Value;
            var expression = $"{sum.Groups["a"].Value}{op}{sum.Groups["b"].Value}";
            found.Add((sum.Index, mathTool.Name, Arguments(mathTool, ["expression", "expr", "input", "query", "formula"], expression, sum)));
        }

        return found.OrderBy(f => f.Position).Select(f => (f.Name, f.Arguments)).ToList();
    }

    static bool IsArithmeticTool(ToolDefinition tool) =>
        new[] { "calc", "math", "arith", "multiply", "add", "compute", "eval", "sum" }.Any(k => tool.Name.Contains(k, StringComparison.OrdinalIgnoreCase))
        || Properties(tool).ContainsKey("expression");

    static JsonObject Properties(ToolDefinition tool) => tool.Parameters["properties"] as JsonObject ?? [];

    /// <summary>Fills the property that takes the main value, numbers for a/b-style schemas, and the first
    /// enum value for any other required property.</summary>
    static string Arguments(ToolDefinition tool, string[] preferred, string value, Match? arithmetic)
    {
        var properties = Properties(tool);
        var args = new JsonObject();
        var main = preferred.FirstOrDefault(properties.ContainsKey)
            ?? properties.Where(p => (p.Value as JsonObject)?["type"]?.ToString() is "string" or null).Select(p => p.Key).FirstOrDefault();
        var numeric = properties.Where(p => (p.Value as JsonObject)?["type"]?.ToString() is "number" or "integer").Select(p => p.Key).ToList();

        if (arithmetic is not null && (main is null || !preferred.Contains(main)) && numeric.Count >= 2)
        {
            args[numeric[0]] = Number(arithmetic.Groups["a"].Value);
            args[numeric[1]] = Number(arithmetic.Groups["b"].Value);
            var operation = properties.FirstOrDefault(p => p.Key is "operation" or "op" or "operator");
            if (operation.Key is not null)
                args[operation.Key] = OperationName(arithmetic.Groups["op"].Value, (operation.Value as JsonObject)?["enum"] as JsonArray);
        }
        else if (main is not null) args[main] = value;
        else if (properties.Count == 0) args[preferred[0]] = value;

        var required = (tool.Parameters["required"] as JsonArray ?? []).Select(r => r?.ToString()).OfType<string>();
        foreach (var name in required.Where(r => !args.ContainsKey(r)))
        {
            if ((properties[name] as JsonObject)?["enum"] is JsonArray { Count: > 0 } choices) args[name] = choices[0]?.DeepClone();
        }
        return PythonJson.Dumps(args);
    }

    static JsonNode Number(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
            ? JsonValue.Create(l)
            : JsonValue.Create(double.Parse(text, CultureInfo.InvariantCulture));

    static string OperationName(string op, JsonArray? choices)
    {
        var name = op switch { "+" => "add", "-" => "subtract", "/" => "divide", "^" => "power", _ => "multiply" };
        var options = choices?.Select(c => c?.ToString()).OfType<string>().ToList() ?? [];
        return options.FirstOrDefault(o => o.StartsWith(name[..3], StringComparison.OrdinalIgnoreCase) || o == op) ?? name;
    }

    [GeneratedRegex(@"\bweather\b.*?\b(?:in|for|at)\s+(?<city>\p{L}[\p{L}\-' ]*?)(?=\s*(?:[?.!,;]|\band\b|\bplus\b|$))", RegexOptions.IgnoreCase)]
    private static partial Regex WeatherRequest();

    [GeneratedRegex(@"(?<a>-?\d+(?:\.\d+)?)\s*(?<op>[*x×+\-/^])\s*(?<b>-?\d+(?:\.\d+)?)")]
    private static partial Regex Arithmetic();
}
