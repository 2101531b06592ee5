using System.Text;
using System.Text.Json.Nodes;

namespace MlxManager.Core.Gateway;

/// <summary>
/// mlx_lm.server sends thinking as <c>reasoning</c>; most OpenAI clients read <c>reasoning_content</c>. Adds the latter
/// (same text) to every <c>choices[].delta</c> or <c>choices[].message</c> that has only the former. Anything else — and
/// any payload that needs no change — is passed on byte for byte.
/// </summary>
public static class ReasoningAlias
{
    private static readonly byte[] Marker = "\"reasoning\""u8.ToArray();

    /// <summary>The payload with <c>reasoning_content</c> added where needed, or null when it is to be sent unchanged.</summary>
    public static byte[]? Rewrite(ReadOnlySpan<byte> json)
    {
        if (json.IndexOf(Marker) < 0)
        {
            return null; // the common case: no parsing at all
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }

        var changed = false;
        foreach (var choice in (root?["choices"] as JsonArray ?? []).OfType<JsonObject>())
        {
            foreach (var part in new[] { "delta", "message" })
            {
                if (choice[part] is JsonObject message && message["reasoning"] is JsonValue reasoning && !message.ContainsKey("reasoning_content"))
                {
                    message["reasoning_content"] = reasoning.DeepClone();
                    changed = true;
                }
            }
        }

        return changed ? Encoding.UTF8.GetBytes(root!.ToJsonString()) : null;
    }
}
