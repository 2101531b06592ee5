using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlxManager.EngineEmulator.Python;

/// <summary>Serialises JSON the way the engines' Python code does, byte for byte where it is cheap:
/// <c>json.dumps</c> (separators <c>", "</c> and <c>": "</c>, non-ASCII escaped as <c>\uXXXX</c>) for mlx_lm.server and
/// mlx-openai-server, and pydantic's <c>model_dump_json</c> (compact, UTF-8 as is) for mlx_vlm.server.</summary>
public static class PythonJson
{
    public static string Dumps(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node, spaced: true, ensureAscii: true);
        return sb.ToString();
    }

    public static string Compact(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node, spaced: false, ensureAscii: false);
        return sb.ToString();
    }

    static void Write(StringBuilder sb, JsonNode? node, bool spaced, bool ensureAscii)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
            {
                sb.Append('{');
                bool first = true;
                foreach (var (key, value) in obj)
                {
                    if (!first) sb.Append(spaced ? ", " : ",");
                    first = false;
                    WriteString(sb, key, ensureAscii);
                    sb.Append(spaced ? ": " : ":");
                    Write(sb, value, spaced, ensureAscii);
                }
                sb.Append('}');
                break;
            }
            case JsonArray array:
            {
                sb.Append('[');
                for (int i = 0; i < array.Count; i++)
                {
                    if (i > 0) sb.Append(spaced ? ", " : ",");
                    Write(sb, array[i], spaced, ensureAscii);
                }
                sb.Append(']');
                break;
            }
            case JsonValue value:
                WriteValue(sb, value, ensureAscii);
                break;
        }
    }

    static void WriteValue(StringBuilder sb, JsonValue value, bool ensureAscii)
    {
        var element = value.GetValueKind();
        switch (element)
        {
            case JsonValueKind.String:
                WriteString(sb, value.GetValue<string>(), ensureAscii);
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Number:
                if (value.TryGetValue<double>(out var d) && !value.TryGetValue<long>(out _) && !value.TryGetValue<int>(out _))
                    sb.Append(PythonFloat(d));
                else
                    sb.Append(value.ToJsonString());
                break;
            default:
                sb.Append("null");
                break;
        }
    }

    /// <summary>Python's <c>repr(float)</c>: shortest round-trip digits, always with a decimal point or exponent.</summary>
    public static string PythonFloat(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsPositiveInfinity(d)) return "Infinity";
        if (double.IsNegativeInfinity(d)) return "-Infinity";
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        if (r.Contains('E', StringComparison.Ordinal))
        {
            var parts = r.Split('E');
            var exponent = int.Parse(parts[1], CultureInfo.InvariantCulture);
            return $"{parts[0]}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
        }
        return r.Contains('.', StringComparison.Ordinal) ? r : r + ".0";
    }

    static void WriteString(StringBuilder sb, string text, bool ensureAscii)
    {
        sb.Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7e))
                        sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
