using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using MlxManager.ModelFixtures;

namespace MlxManager.HubEmulator;

/// <summary>What the Hub derives from a repo's files: the <c>safetensors</c> parameter counts and the <c>config</c>
/// subset (not the whole config.json: architectures, model_type, quantization_config, tokenizer_config with the chat
/// template, processor_config, chat_template_jinja).</summary>
internal static partial class RepoMetadata
{
    const long MaxJsonBytes = 16 * 1024 * 1024;

    public static SafetensorsSummary? ReadSafetensors(HubRepo repo, ILogger logger)
    {
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        bool any = false;
        foreach (var file in repo.Files.Where(f => f.Path.EndsWith(".safetensors", StringComparison.Ordinal)))
        {
            try
            {
                using var header = SafetensorsWriter.ReadHeader(file.FullPath);
                foreach (var tensor in header.RootElement.EnumerateObject())
                {
                    if (tensor.Name == "__metadata__") continue;
                    var dtype = tensor.Value.GetProperty("dtype").GetString() ?? "UNKNOWN";
                    long elements = 1;
                    foreach (var dim in tensor.Value.GetProperty("shape").EnumerateArray()) elements *= dim.GetInt64();
                    counts[dtype] = counts.GetValueOrDefault(dtype) + elements;
                }
                any = true;
            }
            catch (Exception e) when (e is IOException or JsonException or InvalidDataException or InvalidOperationException or KeyNotFoundException)
            {
                LogUnreadable(logger, repo.Id, file.Path, e.Message);
            }
        }
        return any ? new SafetensorsSummary(counts, counts.Values.Sum()) : null;
    }

    public static JsonObject? ReadConfig(HubRepo repo, ILogger logger)
    {
        var result = new JsonObject();
        if (ReadJson(repo, "config.json", logger) is JsonObject config)
        {
            if (config["architectures"] is JsonArray architectures) result["architectures"] = architectures.DeepClone();
            if (config["model_type"] is JsonValue modelType) result["model_type"] = modelType.DeepClone();
            if (config["auto_map"] is JsonObject autoMap) result["auto_map"] = autoMap.DeepClone();
            var quantization = config["quantization_config"] as JsonObject ?? config["quantization"] as JsonObject;
            if (quantization is not null) result["quantization_config"] = quantization.DeepClone();
        }
        if (ReadJson(repo, "tokenizer_config.json", logger) is JsonObject tokenizer)
        {
            var subset = new JsonObject();
            foreach (var key in new[] { "bos_token", "eos_token", "pad_token", "unk_token", "chat_template" })
                if (tokenizer.TryGetPropertyValue(key, out var value)) subset[key] = value?.DeepClone();
            result["tokenizer_config"] = subset;
        }
        if (ReadJson(repo, "chat_template.json", logger) is JsonObject processor && processor["chat_template"] is { } template)
            result["processor_config"] = new JsonObject { ["chat_template"] = template.DeepClone() };
        if (repo.File("chat_template.jinja") is { } jinja && jinja.Size < MaxJsonBytes)
            result["chat_template_jinja"] = File.ReadAllText(jinja.FullPath);
        return result.Count > 0 ? result : null;
    }

    static JsonNode? ReadJson(HubRepo repo, string path, ILogger logger)
    {
        if (repo.File(path) is not { } file || file.Size > MaxJsonBytes) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(file.FullPath));
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            LogUnreadable(logger, repo.Id, path, e.Message);
            return null;
        }
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "{RepoId}: {Path} cannot be parsed, leaving it out of the metadata: {Reason}")]
    static partial void LogUnreadable(ILogger logger, string repoId, string path, string reason);
}
