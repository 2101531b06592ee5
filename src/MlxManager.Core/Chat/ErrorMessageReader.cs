using System.Text;
using System.Text.Json;

namespace MlxManager.Core.Chat;

/// <summary>Reads a human-readable message out of the error bodies OpenAI-compatible engines send.</summary>
internal static class ErrorMessageReader
{
    private const int MaxMessageChars = 2000;

    /// <summary>
    /// The message in <c>{"error": "…"}</c> (mlx_lm.server), <c>{"error": {"message": "…"}}</c> (OpenAI style),
    /// <c>{"detail": "…"}</c> or <c>{"detail": [{"msg": "…"}]}</c> (FastAPI), or <c>{"message": "…"}</c>;
    /// null when the body is not such JSON.
    /// </summary>
    public static string? Read(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var name in (ReadOnlySpan<string>)["error", "detail", "message"])
            {
                if (root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
                {
                    return Describe(value);
                }
            }

            return null;
        }
        catch (JsonException)
        {
            return null; // not JSON: the caller shows the raw text instead
        }
    }

    /// <summary>Turns an <c>error</c>/<c>detail</c> value into text.</summary>
    public static string Describe(JsonElement value)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() ?? "",
            JsonValueKind.Object when value.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String => m.GetString() ?? "",
            JsonValueKind.Object when value.TryGetProperty("msg", out var m) && m.ValueKind == JsonValueKind.String => m.GetString() ?? "",
            JsonValueKind.Array => string.Join("; ", value.EnumerateArray().Select(Describe)),
            _ => value.GetRawText(),
        };
        return Shorten(text);
    }

    /// <summary>Raw body text, shortened, for bodies that are not JSON.</summary>
    public static string DescribeRaw(ReadOnlySpan<byte> body) => Shorten(Encoding.UTF8.GetString(body).Trim());

    private static string Shorten(string text) => text.Length <= MaxMessageChars ? text : text[..MaxMessageChars] + "…";
}
