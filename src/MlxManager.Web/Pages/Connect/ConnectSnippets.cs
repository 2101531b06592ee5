using System.Text.Encodings.Web;
using System.Text.Json;

namespace MlxManager.Web.Pages.Connect;

/// <summary>
/// The copyable examples of the Connect page for one model name: curl, Python and JavaScript (both with the official
/// OpenAI SDK), each streaming. The key is always the environment variable <see cref="KeyVariable"/>, never a secret.
/// Names and addresses are written as JSON strings (valid in Python and JavaScript too) and, for the shell, inside
/// single quotes, so a profile name with quotes or spaces still gives a snippet that runs.
/// </summary>
public static class ConnectSnippets
{
    /// <summary>Where the snippets read the key from.</summary>
    public const string KeyVariable = "MLXM_API_KEY";

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><c>curl -N</c> (no output buffering, so the stream shows as it comes) to <c>/chat/completions</c>.</summary>
    public static string Curl(string baseUrl, string model)
    {
        var body = $$"""{"model": {{Quote(model)}}, "stream": true, "messages": [{"role": "user", "content": "Hello!"}]}""";
        return $"""
            curl -N {ShellQuote(baseUrl.TrimEnd('/') + "/chat/completions")} \
              -H "Authorization: Bearer ${KeyVariable}" \
              -H "Content-Type: application/json" \
              -d {ShellQuote(body)}
            """;
    }

    /// <summary>The <c>openai</c> Python package (<c>pip install openai</c>).</summary>
    public static string Python(string baseUrl, string model) => $$"""
        import os
        from openai import OpenAI

        client = OpenAI(base_url={{Quote(baseUrl)}}, api_key=os.environ["{{KeyVariable}}"])
        stream = client.chat.completions.create(
            model={{Quote(model)}},
            messages=[{"role": "user", "content": "Hello!"}],
            stream=True,
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                print(chunk.choices[0].delta.content, end="", flush=True)
        print()
        """;

    /// <summary>The <c>openai</c> npm package (<c>npm install openai</c>), as an ES module.</summary>
    public static string JavaScript(string baseUrl, string model) => $$"""
        import OpenAI from "openai";

        const client = new OpenAI({ baseURL: {{Quote(baseUrl)}}, apiKey: process.env.{{KeyVariable}} });
        const stream = await client.chat.completions.create({
          model: {{Quote(model)}},
          messages: [{ role: "user", content: "Hello!" }],
          stream: true,
        });
        for await (const chunk of stream) {
          process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
        }
        process.stdout.write("\n");
        """;

    private static string Quote(string text) => JsonSerializer.Serialize(text, Json);

    private static string ShellQuote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
