using System.Text.Json.Nodes;
using MlxManager.EngineEmulator.Generation;
using MlxManager.EngineEmulator.Models;
using MlxManager.EngineEmulator.Python;

namespace MlxManager.EngineEmulator.Server;

/// <summary>An attachment that could not be read: the flavour turns it into its error response.</summary>
public sealed class MediaProblemException(string message) : Exception(message);

/// <summary>One chat completion being served: the request, the model, the planned answer and the prompt sizes.</summary>
public sealed record ChatTurn(ChatRequest Request, LoadedModel Model, PlannedAnswer Answer, List<string> PromptTokens, int CachedTokens,
    long MaxTokens, ThinkingOutput Thinking, ToolOutput Tools, IReadOnlyList<MediaFacts> Media)
{
    public static async Task<ChatTurn> BuildAsync(EngineRuntime runtime, ChatRequest request, LoadedModel model, ThinkingOutput thinking, ToolOutput tools,
        IHttpClientFactory httpClients, bool usePromptCache, CancellationToken cancellationToken)
    {
        var media = new List<MediaFacts>();
        foreach (var reference in request.Messages.SelectMany(m => m.Media))
            media.Add(await InspectAsync(reference, httpClients, cancellationToken));

        var maxTokens = request.MaxTokens ?? runtime.Options.DefaultMaxTokens;
        var prompt = PromptRendering.Tokens(request, model.Folder.SupportsTools);
        var cached = usePromptCache ? runtime.PromptCache.CachedPrefix(model.Requested, prompt) : 0;
        var context = new AnswerContext(thinking, tools, model.Folder.ToolMarkup == ToolCallMarkup.Hermes, media,
            () => Echo(runtime, request, model, thinking, tools, media, maxTokens));
        return new ChatTurn(request, model, AnswerComposer.Compose(request, context), prompt, cached, maxTokens, thinking, tools, media);
    }

    /// <summary>Plays the turn through the compute loop, then stores prompt and answer in the prompt cache.</summary>
    public async IAsyncEnumerable<GenerationEvent> RunAsync(EngineRuntime runtime, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var generated = new List<string>();
        await foreach (var e in GenerationRun.RunAsync(Answer, new GenerationLimits(MaxTokens, Request.Stop), runtime.Loop,
                           PromptTokens.Count, CachedTokens, runtime.Options.PrefillStepSize, runtime.Faults, cancellationToken))
        {
            switch (e)
            {
                case ContentDelta c: generated.Add(c.Text); break;
                case ReasoningDelta r: generated.Add(r.Text); break;
                case ToolCallArguments a: generated.Add(a.Text); break;
                case GenerationFinished:
                    runtime.PromptCache.Insert(Model.Requested, [.. PromptTokens, .. generated]);
                    break;
            }
            yield return e;
        }
    }

    static async Task<MediaFacts> InspectAsync(MediaReference reference, IHttpClientFactory httpClients, CancellationToken cancellationToken)
    {
        if (reference.Url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var (mime, bytes) = MediaInspection.DecodeDataUrl(reference.Url);
                return MediaInspection.Inspect(reference.Kind, mime, bytes);
            }
            catch (FormatException e)
            {
                throw new MediaProblemException($"Failed to decode {reference.Kind} data URL: {e.Message}");
            }
        }
        if (Uri.TryCreate(reference.Url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            try
            {
                using var client = httpClients.CreateClient("media");
                using var response = await client.GetAsync(uri, cancellationToken);
                response.EnsureSuccessStatusCode();
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                return MediaInspection.Inspect(reference.Kind, response.Content.Headers.ContentType?.MediaType ?? "application/octet-stream", bytes);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                throw new MediaProblemException($"Failed to load {reference.Kind} from {reference.Url}: {e.Message}");
            }
        }
        if (File.Exists(reference.Url))
        {
            var bytes = await File.ReadAllBytesAsync(reference.Url, cancellationToken);
            return MediaInspection.Inspect(reference.Kind, "application/octet-stream", bytes);
        }
        throw new MediaProblemException($"Unsupported {reference.Kind} reference: {(reference.Url.Length > 80 ? reference.Url[..80] + "…" : reference.Url)}");
    }

    /// <summary>The <c>[[echo]]</c> answer: what the engine received and decided, as JSON, so a test can prove
    /// what a proxy in front of it sent.</summary>
    static string Echo(EngineRuntime runtime, ChatRequest request, LoadedModel model, ThinkingOutput thinking, ToolOutput tools,
        IReadOnlyList<MediaFacts> media, long maxTokens)
    {
        var body = request.Body;
        var echo = new JsonObject
        {
            ["engine"] = runtime.Options.Flavour.ExecutableName(),
            ["request_model"] = request.Model,
            ["loaded_model"] = model.Requested,
            ["messages"] = new JsonArray(request.Messages.Select(m => (JsonNode)new JsonObject
            {
                ["role"] = m.Role,
                ["content"] = m.Text,
                ["parts"] = new JsonArray(m.PartTypes.Select(t => (JsonNode)JsonValue.Create(t)).ToArray()),
                ["tool_calls"] = m.ToolCalls.Count,
            }).ToArray()),
            ["media"] = new JsonArray(media.Select(f => (JsonNode)JsonValue.Create(f.Describe())).ToArray()),
            ["tools"] = new JsonArray(request.Tools.Select(t => (JsonNode)JsonValue.Create(t.Name)).ToArray()),
            ["max_tokens"] = maxTokens,
            ["stop"] = new JsonArray(request.Stop.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
            ["stream"] = request.Stream,
            ["thinking"] = thinking.ToString(),
            ["tool_output"] = tools.ToString(),
        };
        foreach (var key in new[] { "temperature", "top_p", "top_k", "min_p", "repetition_penalty", "presence_penalty", "frequency_penalty", "seed", "chat_template_kwargs", "enable_thinking" })
            if (body[key] is { } value) echo[key] = value.DeepClone();
        return PythonJson.Compact(echo);
    }
}
