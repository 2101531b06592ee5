using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

/// <summary>A streamed completion as the client saw it: every non-empty SSE line in order.</summary>
public sealed record SseStream(int Status, IReadOnlyList<string> Lines)
{
    public IReadOnlyList<JsonObject> Chunks => Lines.Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
        .Select(l => JsonNode.Parse(l["data: ".Length..])!.AsObject()).ToList();

    public IReadOnlyList<string> Comments => Lines.Where(l => l.StartsWith(':')).ToList();

    public bool Done => Lines.Contains("data: [DONE]");

    /// <summary>The <c>delta</c> of each chunk that has a choice.</summary>
    public IReadOnlyList<JsonObject> Deltas => Chunks
        .Where(c => c["choices"] is JsonArray { Count: > 0 })
        .Select(c => c["choices"]![0]!["delta"]!.AsObject()).ToList();

    public string Content => string.Concat(Deltas.Select(d => d["content"]?.GetValue<string>()));

    public string? FinishReason => Chunks.Select(c => c["choices"] is JsonArray { Count: > 0 } a ? a[0]!["finish_reason"]?.GetValue<string>() : null).LastOrDefault(r => r is not null);
}

/// <summary>Requests to the emulated engines.</summary>
public static class Chat
{
    public static JsonObject User(string text) => new() { ["role"] = "user", ["content"] = text };

    public static JsonObject Body(params JsonObject[] messages) => new() { ["messages"] = new JsonArray(messages.Select(m => (JsonNode)m).ToArray()) };

    public static JsonObject Tool(string name, params string[] properties) => new()
    {
        ["type"] = "function",
        ["function"] = new JsonObject
        {
            ["name"] = name,
            ["description"] = $"{name} tool",
            ["parameters"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject(properties.Select(p => KeyValuePair.Create(p, (JsonNode?)new JsonObject { ["type"] = "string" }))),
                ["required"] = new JsonArray(properties.Select(p => (JsonNode)p).ToArray()),
            },
        },
    };

    public static JsonObject WeatherAndCalculatorTools(JsonObject body)
    {
        body["tools"] = new JsonArray(Tool("get_weather", "city"), Tool("calculator", "expression"));
        return body;
    }

    public static async Task<JsonObject> CompleteAsync(HttpClient http, JsonObject body)
    {
        body["stream"] = false;
        using var response = await http.PostAsync("/v1/chat/completions", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<(int Status, string Body)> PostAsync(HttpClient http, JsonObject body)
    {
        using var response = await http.PostAsync("/v1/chat/completions", Json(body));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<SseStream> StreamAsync(HttpClient http, JsonObject body, CancellationToken cancellationToken = default)
    {
        body["stream"] = true;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json(body) };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var lines = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        try
        {
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
                if (line.Length > 0) lines.Add(line);
        }
        catch (HttpIOException)
        {
            // The server went away mid-stream: what arrived so far is the result.
            lines.Add("(connection ended)");
        }
        catch (IOException)
        {
            lines.Add("(connection ended)");
        }
        return new SseStream((int)response.StatusCode, lines);
    }

    /// <summary>A JSON body with a Content-Length (ByteArrayContent), as proxies must send to mlx_lm.server.</summary>
    public static ByteArrayContent Json(JsonNode body)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}
