using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlxManager.Core.Tests.Servers.Infrastructure;

/// <summary>Chat completions against a running engine, as a client would send them (with a Content-Length).</summary>
public static class Completions
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(120) };

    /// <summary>POSTs one user message and returns the answer's text (throws with the body on a non-2xx answer).</summary>
    public static async Task<string> AskAsync(Uri chatCompletionsUrl, string model, string prompt, int maxTokens = 100)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
            ["max_tokens"] = maxTokens,
            ["stream"] = false,
        }.ToJsonString();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(chatCompletionsUrl, content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{(int)response.StatusCode}: {text}");
        }

        using var document = JsonDocument.Parse(text);
        return document.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "";
    }
}
