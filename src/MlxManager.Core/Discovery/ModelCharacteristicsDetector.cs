using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MlxManager.Core.Discovery;

/// <summary>
/// Derives <see cref="ModelCharacteristics"/> from the files of a model repository (DISC-01, DISC-04). Works the
/// same on a local snapshot and on files fetched from the Hub. Never throws for bad input: a missing file leaves
/// its values unknown, a malformed one is recorded in <see cref="ModelCharacteristics.Problems"/>.
/// </summary>
public sealed partial class ModelCharacteristicsDetector
{
    /// <summary>Stored with every result; a cached result with another version should be recomputed.</summary>
    public const int Version = 3;

    /// <summary>The small files detection reads (besides safetensors headers). A Hub job fetches those the repo has.</summary>
    public static readonly IReadOnlyList<string> MetadataFiles =
    [
        "config.json",
        "tokenizer_config.json",
        "chat_template.jinja",
        "chat_template.json",
        "preprocessor_config.json",
        "processor_config.json",
        "model.safetensors.index.json",
    ];

    private const string AdditionalTemplatesFolder = "additional_chat_templates/";

    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    private readonly ILogger _logger;

    public ModelCharacteristicsDetector(ILogger<ModelCharacteristicsDetector>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>True for files a Hub detection job should fetch the text of (see <see cref="MetadataFiles"/>).</summary>
    public static bool IsMetadataFile(string path) =>
        MetadataFiles.Contains(path, StringComparer.Ordinal)
        || (path.StartsWith(AdditionalTemplatesFolder, StringComparison.Ordinal) && path.EndsWith(".jinja", StringComparison.Ordinal));

    public async Task<ModelCharacteristics> DetectAsync(IModelFileSource source, DetectionHints? hints = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var problems = new List<string>();
        var files = await source.ListFilesAsync(cancellationToken).ConfigureAwait(false);
        var listed = files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);

        var configJson = await ReadJsonAsync(source, listed, ModelConfig.FileName, problems, cancellationToken).ConfigureAwait(false);
        ModelConfig? config = null;
        if (configJson is { } root)
        {
            if (root.ValueKind == JsonValueKind.Object)
            {
                config = new ModelConfig(root);
            }
            else
            {
                problems.Add("config.json is not a JSON object");
            }
        }

        var tokenizerConfig = await ReadJsonAsync(source, listed, "tokenizer_config.json", problems, cancellationToken).ConfigureAwait(false);
        var templates = await ReadTemplatesAsync(source, listed, tokenizerConfig, problems, cancellationToken).ConfigureAwait(false);
        var preprocessor = await ReadJsonAsync(source, listed, "preprocessor_config.json", problems, cancellationToken).ConfigureAwait(false);
        var processor = await ReadJsonAsync(source, listed, "processor_config.json", problems, cancellationToken).ConfigureAwait(false);
        var index = await ReadJsonAsync(source, listed, "model.safetensors.index.json", problems, cancellationToken).ConfigureAwait(false);
        var weightFiles = files.Where(f => f.Path.EndsWith(".safetensors", StringComparison.Ordinal)).ToList();
        var headers = await ReadHeadersAsync(source, weightFiles, problems, cancellationToken).ConfigureAwait(false);

        var scheme = config is null ? null : QuantizationReader.ReadScheme(config);
        var quantization = QuantizationReader.Read(config, scheme, headers.Select(h => h.Header).ToList());

        var parameters = ParameterCounter.FromHeaders(headers, scheme, problems)
            ?? ParameterCounter.FromHubMetadata(hints?.HubSafetensorsParameters, scheme)
            ?? (index is { } idx ? ParameterCounter.FromIndex(idx, scheme, quantization) : null)
            ?? (config is null ? null : ParameterCounter.FromConfig(config));

        var contextTokens = ContextReader.ReadTokens(config, tokenizerConfig);
        var (kvCache, sliding) = config is null ? (null, null) : KvCacheCalculator.Compute(config, contextTokens?.Tokens, quantization);
        var context = contextTokens is { } ctx
            ? new ContextWindow(ctx.Tokens, ctx.Source, sliding, config is null ? null : ContextReader.ReadRopeScaling(config))
            : null;

        // "No chat template" is a fact only when the tokenizer config was read and no template file is listed.
        var templateAbsenceKnown = templates.Count == 0
            && tokenizerConfig.HasValue
            && !listed.Contains("chat_template.jinja")
            && !listed.Contains("chat_template.json");

        var characteristics = new ModelCharacteristics
        {
            RepoId = source.RepoId,
            ModelType = config?.ModelType,
            Architectures = config is null ? [] : Architectures(config),
            CustomModelFile = config?.Top("model_file")?.AsString() is { Length: > 0 } modelFile ? modelFile : null,
            Architecture = config is null ? null : Architecture(config),
            Parameters = parameters,
            Context = context,
            Vision = Vision(config, preprocessor, processor, listed),
            Audio = Audio(config, preprocessor),
            Quantization = quantization,
            KvCache = kvCache,
            Tools = CapabilityReader.Tools(templates, tokenizerConfig, templateAbsenceKnown, hints?.HubTags),
            Thinking = CapabilityReader.Thinking(templates, tokenizerConfig, templateAbsenceKnown, source.RepoId, hints?.HubTags),
            ThinkingOpensInPrompt = templates.Any(t => ChatTemplateScanner.Scan(t.Text).OpensThinkingInPrompt),
            WeightBytes = WeightBytes(weightFiles),
            Problems = problems,
        };

        foreach (var problem in problems)
        {
            LogDetectionProblem(_logger, source.RepoId ?? "(local folder)", problem);
        }

        return characteristics with { Badges = BadgeBuilder.Build(characteristics) };
    }

    private static IReadOnlyList<string> Architectures(ModelConfig config) =>
        config.Top("architectures") is { } found && found.Value.ValueKind == JsonValueKind.Array
            ? found.Value.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!).ToList()
            : [];

    private static Sourced<string>? Architecture(ModelConfig config)
    {
        var modelType = config.Top("model_type");
        var architectures = config.Top("architectures");
        var firstClass = Architectures(config).FirstOrDefault();
        var name = ArchitectureNames.ForModelType(config.ModelType)
            ?? ArchitectureNames.ForModelType(config.TextModelType)
            ?? ArchitectureNames.FromArchitectureClass(firstClass)
            ?? config.ModelType;
        if (name is null)
        {
            return null;
        }

        var source = string.Join(", ", new[] { modelType?.Source, architectures is { } a ? $"architectures = {ModelConfig.Display(a.Value)}" : null }.Where(s => s is not null));
        return new Sourced<string>(name, source);
    }

    private static Sourced<bool>? Vision(ModelConfig? config, JsonElement? preprocessor, JsonElement? processor, HashSet<string> listed)
    {
        if (config?.Top("vision_config") is { } vision && vision.Value.ValueKind == JsonValueKind.Object)
        {
            var type = vision.Value.TryGetProperty("model_type", out var t) && t.ValueKind == JsonValueKind.String ? $" (model_type {t.GetString()})" : string.Empty;
            return new Sourced<bool>(true, $"config.json: vision_config present{type}");
        }

        foreach (var key in new[] { "image_token_id", "image_token_index", "video_token_id" })
        {
            if (config?.Top(key) is { } token)
            {
                return new Sourced<bool>(true, token.Source);
            }
        }

        foreach (var (name, json) in new[] { ("preprocessor_config.json", preprocessor), ("processor_config.json", processor) })
        {
            if (json is { ValueKind: JsonValueKind.Object } p && HasImageProcessing(p) is { } key)
            {
                return new Sourced<bool>(true, $"{name}: {key} (an image processor)");
            }
        }

        if (config is null)
        {
            return null;
        }

        var processorFiles = listed.Contains("preprocessor_config.json") || listed.Contains("processor_config.json") ? "its processor config is not for images" : "no preprocessor_config.json";
        return new Sourced<bool>(false, $"config.json has no vision_config or image token id; {processorFiles}");
    }

    private static string? HasImageProcessing(JsonElement processor)
    {
        foreach (var key in new[] { "image_processor_type", "image_processor", "image_mean", "image_seq_length", "patch_size" })
        {
            if (processor.TryGetProperty(key, out _))
            {
                return key;
            }
        }

        return null;
    }

    private static Sourced<bool>? Audio(ModelConfig? config, JsonElement? preprocessor)
    {
        if (config?.Top("audio_config") is { } audio && audio.Value.ValueKind == JsonValueKind.Object)
        {
            var type = audio.Value.TryGetProperty("model_type", out var t) && t.ValueKind == JsonValueKind.String ? $" (model_type {t.GetString()})" : string.Empty;
            return new Sourced<bool>(true, $"config.json: audio_config present{type}");
        }

        foreach (var key in new[] { "audio_token_id", "audio_token_index" })
        {
            if (config?.Top(key) is { } token)
            {
                return new Sourced<bool>(true, token.Source);
            }
        }

        if (preprocessor is { ValueKind: JsonValueKind.Object } p
            && p.TryGetProperty("feature_extractor_type", out var extractor) && extractor.ValueKind == JsonValueKind.String
            && p.TryGetProperty("sampling_rate", out _))
        {
            return new Sourced<bool>(true, $"preprocessor_config.json: feature_extractor_type = {extractor.GetRawText()} with a sampling_rate");
        }

        return config is null ? null : new Sourced<bool>(false, "config.json has no audio_config or audio token id");
    }

    private static Sourced<long>? WeightBytes(List<ModelFileEntry> weightFiles)
    {
        if (weightFiles.Count == 0 || weightFiles.Any(f => f.Size is null))
        {
            return null;
        }

        var total = weightFiles.Sum(f => f.Size!.Value);
        var what = weightFiles.Count == 1 ? weightFiles[0].Path : $"{weightFiles.Count} *.safetensors files";
        return new Sourced<long>(total, $"size of {what}: {ModelFormat.Number(total)} bytes");
    }

    private async Task<JsonElement?> ReadJsonAsync(IModelFileSource source, HashSet<string> listed, string path, List<string> problems, CancellationToken cancellationToken)
    {
        var text = await ReadTextAsync(source, listed, path, problems, cancellationToken).ConfigureAwait(false);
        if (text is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text, JsonOptions);
            return document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            problems.Add($"{path} is not valid JSON ({exception.Message})");
            return null;
        }
    }

    private async Task<string?> ReadTextAsync(IModelFileSource source, HashSet<string> listed, string path, List<string> problems, CancellationToken cancellationToken)
    {
        if (!listed.Contains(path))
        {
            return null;
        }

        try
        {
            var text = await source.ReadTextAsync(path, cancellationToken).ConfigureAwait(false);
            if (text is null)
            {
                problems.Add($"{path} is listed but its content was not available");
            }

            return text;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Text.DecoderFallbackException)
        {
            LogReadFailed(_logger, exception, path);
            problems.Add($"{path} could not be read ({exception.Message})");
            return null;
        }
    }

    private async Task<List<ChatTemplateText>> ReadTemplatesAsync(IModelFileSource source, HashSet<string> listed, JsonElement? tokenizerConfig, List<string> problems, CancellationToken cancellationToken)
    {
        var templates = new List<ChatTemplateText>();
        if (await ReadTextAsync(source, listed, "chat_template.jinja", problems, cancellationToken).ConfigureAwait(false) is { } jinja)
        {
            templates.Add(new ChatTemplateText("chat_template.jinja", jinja));
        }

        if (await ReadJsonAsync(source, listed, "chat_template.json", problems, cancellationToken).ConfigureAwait(false) is { ValueKind: JsonValueKind.Object } json)
        {
            AddTemplates(templates, "chat_template.json", json, problems);
        }

        if (tokenizerConfig is { ValueKind: JsonValueKind.Object } tok)
        {
            AddTemplates(templates, "tokenizer_config.json", tok, problems);
        }

        foreach (var path in listed.Where(p => p.StartsWith(AdditionalTemplatesFolder, StringComparison.Ordinal) && p.EndsWith(".jinja", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            if (await ReadTextAsync(source, listed, path, problems, cancellationToken).ConfigureAwait(false) is { } extra)
            {
                templates.Add(new ChatTemplateText(path, extra));
            }
        }

        return templates;
    }

    // chat_template is a string, or a list of {"name": ..., "template": ...} (named templates such as "tool_use").
    private static void AddTemplates(List<ChatTemplateText> templates, string file, JsonElement container, List<string> problems)
    {
        if (!container.TryGetProperty("chat_template", out var value))
        {
            return;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                templates.Add(new ChatTemplateText($"{file}: chat_template", value.GetString()!));
                break;
            case JsonValueKind.Array:
                foreach (var entry in value.EnumerateArray())
                {
                    if (entry.ValueKind == JsonValueKind.Object
                        && entry.TryGetProperty("template", out var template) && template.ValueKind == JsonValueKind.String)
                    {
                        var name = entry.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : "?";
                        templates.Add(new ChatTemplateText($"{file}: chat_template[{name}]", template.GetString()!));
                    }
                    else
                    {
                        problems.Add($"{file}: a chat_template list entry has no template string");
                    }
                }

                break;
            case JsonValueKind.Null:
                break;
            default:
                problems.Add($"{file}: chat_template is neither a string nor a list of named templates");
                break;
        }
    }

    private async Task<List<(string File, SafetensorsHeader Header)>> ReadHeadersAsync(IModelFileSource source, List<ModelFileEntry> weightFiles, List<string> problems, CancellationToken cancellationToken)
    {
        var headers = new List<(string, SafetensorsHeader)>();
        foreach (var file in weightFiles)
        {
            try
            {
                var lengthBytes = await source.ReadPrefixAsync(file.Path, 8, cancellationToken).ConfigureAwait(false);
                if (lengthBytes is not { } first)
                {
                    // The source holds no header bytes for this file: counting only some shards would undercount.
                    return [];
                }

                if (SafetensorsHeader.ReadHeaderLength(first.Span) is not { } length || length is <= 1 or > SafetensorsHeader.MaxHeaderLength)
                {
                    problems.Add($"{file.Path}: not a safetensors file (bad header length)");
                    return [];
                }

                var prefix = await source.ReadPrefixAsync(file.Path, (int)(8 + length), cancellationToken).ConfigureAwait(false);
                if (prefix is not { } bytes)
                {
                    problems.Add($"{file.Path}: safetensors header unreadable (no bytes)");
                    return [];
                }

                if (!SafetensorsHeader.TryParse(bytes.Span, out var header, out var error))
                {
                    problems.Add($"{file.Path}: safetensors header unreadable ({error})");
                    return [];
                }

                headers.Add((file.Path, header!));
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                LogReadFailed(_logger, exception, file.Path);
                problems.Add($"{file.Path} could not be read ({exception.Message})");
                return [];
            }
        }

        return headers;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Detection of {RepoId}: {Problem}")]
    private static partial void LogDetectionProblem(ILogger logger, string repoId, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read {Path} for model detection")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, string path);
}
