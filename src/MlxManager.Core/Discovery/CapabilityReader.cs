using System.Text.Json;

namespace MlxManager.Core.Discovery;

/// <summary>A chat template and the file (and entry) it came from.</summary>
internal sealed record ChatTemplateText(string Origin, string Text);

/// <summary>Tool use and thinking, judged from the chat template first and labelled fallbacks after.</summary>
internal static class CapabilityReader
{
    private static readonly string[] ToolTags = ["tool-use", "tool_use", "function-calling", "function_calling", "tools", "tool-calling"];
    private static readonly string[] ThinkingTags = ["reasoning", "thinking", "chain-of-thought"];

    public static Capability Tools(IReadOnlyList<ChatTemplateText> templates, JsonElement? tokenizerConfig, bool templateAbsenceKnown, IReadOnlyList<string>? hubTags)
    {
        foreach (var template in templates)
        {
            var facts = ChatTemplateScanner.Scan(template.Text);
            if (facts.RendersTools)
            {
                return new Capability(true, CapabilityEvidence.ChatTemplate, $"{template.Origin}: template reads tools in \"{facts.ToolsEvidence}\"");
            }
        }

        if (tokenizerConfig is { ValueKind: JsonValueKind.Object } tok
            && tok.TryGetProperty("tool_parser_type", out var parser) && parser.ValueKind == JsonValueKind.String
            && !string.IsNullOrWhiteSpace(parser.GetString()))
        {
            return new Capability(true, CapabilityEvidence.TokenizerConfig, $"tokenizer_config.json: tool_parser_type = {parser.GetRawText()}");
        }

        if (templates.Count > 0)
        {
            return new Capability(false, CapabilityEvidence.ChatTemplate, $"{Origins(templates)}: the chat template never reads tools");
        }

        if (MatchingTag(hubTags, ToolTags) is { } tag)
        {
            return new Capability(true, CapabilityEvidence.HubTagOnly, $"Hub tag \"{tag}\" only (no chat template was read)");
        }

        return templateAbsenceKnown
            ? new Capability(false, CapabilityEvidence.NoChatTemplate, "no chat template: tokenizer_config.json has no chat_template and there is no chat_template.jinja/.json")
            : Capability.Unknown("no tokenizer_config.json or chat template among the files read");
    }

    public static Capability Thinking(IReadOnlyList<ChatTemplateText> templates, JsonElement? tokenizerConfig, bool templateAbsenceKnown, string? repoId, IReadOnlyList<string>? hubTags)
    {
        foreach (var template in templates)
        {
            var facts = ChatTemplateScanner.Scan(template.Text);
            if (facts.Thinking)
            {
                return new Capability(true, CapabilityEvidence.ChatTemplate, $"{template.Origin}: template {facts.ThinkingEvidence}");
            }
        }

        // Some thinking models ship a template that leaves the <think> block to the model (GLM-4.1V-Thinking):
        // the tokenizer defines the tokens and the name says so. Both are needed: instruct siblings share the vocabulary.
        if (HasThinkTokens(tokenizerConfig) && NameSaysThinking(repoId) is { } word)
        {
            return new Capability(true, CapabilityEvidence.TokensAndName, $"tokenizer_config.json defines <think> and </think>, and the name says \"{word}\" (the template does not show it)");
        }

        if (templates.Count > 0)
        {
            return new Capability(false, CapabilityEvidence.ChatTemplate, $"{Origins(templates)}: the chat template has no enable_thinking, <think> or reasoning channel");
        }

        if (MatchingTag(hubTags, ThinkingTags) is { } tag)
        {
            return new Capability(true, CapabilityEvidence.HubTagOnly, $"Hub tag \"{tag}\" only (no chat template was read)");
        }

        return templateAbsenceKnown
            ? new Capability(false, CapabilityEvidence.NoChatTemplate, "no chat template: tokenizer_config.json has no chat_template and there is no chat_template.jinja/.json")
            : Capability.Unknown("no tokenizer_config.json or chat template among the files read");
    }

    private static string Origins(IReadOnlyList<ChatTemplateText> templates) =>
        string.Join(", ", templates.Select(t => t.Origin).Distinct());

    private static string? MatchingTag(IReadOnlyList<string>? tags, string[] wanted) =>
        tags?.FirstOrDefault(t => wanted.Contains(t, StringComparer.OrdinalIgnoreCase));

    private static bool HasThinkTokens(JsonElement? tokenizerConfig)
    {
        if (tokenizerConfig is not { ValueKind: JsonValueKind.Object } tok
            || !tok.TryGetProperty("added_tokens_decoder", out var added) || added.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        var open = false;
        var close = false;
        foreach (var token in added.EnumerateObject())
        {
            if (token.Value.ValueKind == JsonValueKind.Object && token.Value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                open |= content.GetString() == "<think>";
                close |= content.GetString() == "</think>";
            }
        }

        return open && close;
    }

    private static string? NameSaysThinking(string? repoId)
    {
        if (string.IsNullOrEmpty(repoId))
        {
            return null;
        }

        var name = repoId[(repoId.LastIndexOf('/') + 1)..];
        foreach (var word in new[] { "Thinking", "Reasoning", "Think", "Reasoner" })
        {
            if (name.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                return word;
            }
        }

        return null;
    }
}
