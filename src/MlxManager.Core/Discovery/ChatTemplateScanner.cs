using System.Text;

namespace MlxManager.Core.Discovery;

/// <summary>What a Jinja chat template does, as far as badges care.</summary>
/// <param name="RendersTools">The template reads the <c>tools</c> variable in a Jinja statement or expression.</param>
/// <param name="ToolsEvidence">The statement/expression that showed it.</param>
/// <param name="Thinking">The template reads <c>enable_thinking</c>/reasoning fields or emits thinking markers.</param>
/// <param name="ThinkingEvidence">What showed it.</param>
/// <param name="OpensThinkingInPrompt">
/// The generation prompt (the <c>add_generation_prompt</c> block) emits an opening <c>&lt;think&gt;</c> without closing it
/// (DeepSeek-R1 distills, Qwen3.5 with thinking on): the model's stream then holds only <c>…&lt;/think&gt;answer</c>, so a
/// chat must treat the start of the answer as thinking (<c>ThinkingStart.InThinking</c>).
/// </param>
public sealed record ChatTemplateFacts(bool RendersTools, string? ToolsEvidence, bool Thinking, string? ThinkingEvidence, bool OpensThinkingInPrompt = false);

/// <summary>
/// Reads a Jinja chat template the way Jinja tokenises it, so that only real template logic counts: a word in a
/// <c>{# comment #}</c>, in prose outside tags or inside a string literal says nothing about what the template does.
/// </summary>
public static class ChatTemplateScanner
{
    // Evidence of thinking, strongest first: the thinking switch, the markers a thinking model's turns carry
    // (<think> blocks, Harmony's analysis channel in gpt-oss, Gemma 4's thought channel and switch token, Kimi's
    // think markers), then reasoning fields a template renders back.
    private static readonly string[] ThinkingMarkers =
        ["<think>", "</think>", "<|think|>", "<thinking>", "</thinking>", "<|channel|>analysis", "<|channel>thought", "◁think▷"];

    private static readonly string[] ReasoningFields = ["reasoning_content", "thinking", "reasoning_effort"];

    public static ChatTemplateFacts Scan(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        string? toolsEvidence = null;
        string? switchEvidence = null;
        string? markerEvidence = null;
        string? fieldEvidence = null;

        // Names a macro declares as parameters are local to its body: reading them says nothing about the
        // template's own variables.
        var macroLocals = new Stack<HashSet<string>>();

        // Depth of {% if %} nesting, and the depth at which an "if add_generation_prompt" block opened (-1: outside).
        var ifDepth = 0;
        var generationPromptDepth = -1;
        var opensThinking = false;
        foreach (var segment in Segments(template))
        {
            if (segment.Kind == SegmentKind.Text)
            {
                markerEvidence ??= FindMarker(segment.Text) is { } emitted ? $"emits {emitted}" : null;
                opensThinking |= generationPromptDepth >= 0 && OpensThinkBlock(segment.Text);
                continue;
            }

            var code = StripStrings(segment.Text, out var literals);
            var tokens = Tokenise(code);
            if (tokens.Count > 0 && tokens[0] == "if")
            {
                ifDepth++;
                if (generationPromptDepth < 0 && TestsGenerationPrompt(tokens))
                {
                    generationPromptDepth = ifDepth;
                }
            }
            else if (tokens.Count > 0 && tokens[0] == "endif")
            {
                if (ifDepth == generationPromptDepth)
                {
                    generationPromptDepth = -1;
                }

                ifDepth = Math.Max(0, ifDepth - 1);
            }
            else if (generationPromptDepth >= 0 && segment.Kind == SegmentKind.Expression)
            {
                opensThinking |= literals.Any(OpensThinkBlock);
            }

            // A macro's parameter list declares names; it does not read the template's variables.
            var isMacro = tokens.Count > 0 && tokens[0] == "macro";
            if (isMacro)
            {
                macroLocals.Push(tokens.Where(t => t.Length > 0 && (char.IsLetter(t[0]) || t[0] == '_')).Skip(2).ToHashSet(StringComparer.Ordinal));
            }
            else if (tokens.Count > 0 && tokens[0] == "endmacro" && macroLocals.Count > 0)
            {
                macroLocals.Pop();
            }

            var toolsIsLocal = macroLocals.Any(locals => locals.Contains("tools"));
            if (toolsEvidence is null && !isMacro && !toolsIsLocal && ReadsVariable(tokens, "tools"))
            {
                toolsEvidence = Shorten(segment.Text, "tools");
            }

            if (switchEvidence is null && ReadsName(tokens, "enable_thinking", literals))
            {
                switchEvidence = $"reads enable_thinking in \"{Shorten(segment.Text, "enable_thinking")}\"";
            }

            if (markerEvidence is null)
            {
                foreach (var literal in literals)
                {
                    if (FindMarker(literal) is { } marker)
                    {
                        markerEvidence = $"handles {marker} in \"{Shorten(segment.Text, marker)}\"";
                        break;
                    }
                }
            }

            if (fieldEvidence is null && !isMacro)
            {
                foreach (var field in ReasoningFields)
                {
                    if (ReadsName(tokens, field, literals))
                    {
                        fieldEvidence = $"reads {field} in \"{Shorten(segment.Text, field)}\"";
                        break;
                    }
                }
            }
        }

        var thinkingEvidence = switchEvidence ?? markerEvidence ?? fieldEvidence;
        return new ChatTemplateFacts(toolsEvidence is not null, toolsEvidence, thinkingEvidence is not null, thinkingEvidence, opensThinking);
    }

    // "if add_generation_prompt" or "if add_generation_prompt and …", not "if not add_generation_prompt is defined".
    private static bool TestsGenerationPrompt(List<string> tokens)
    {
        var at = tokens.IndexOf("add_generation_prompt");
        return at > 0 && tokens[at - 1] != "not" && (at + 1 >= tokens.Count || tokens[at + 1] != "is");
    }

    // "<think>\n" opens a block the model will close; "<think>\n\n</think>" (thinking switched off) does not.
    private static bool OpensThinkBlock(string emitted)
    {
        var open = emitted.LastIndexOf("<think>", StringComparison.Ordinal);
        return open >= 0 && emitted.IndexOf("</think>", open, StringComparison.Ordinal) < 0;
    }

    private static string? FindMarker(string text)
    {
        foreach (var marker in ThinkingMarkers)
        {
            if (text.Contains(marker, StringComparison.Ordinal))
            {
                return marker;
            }
        }

        return null;
    }

    // True when the name is read as a variable: not an attribute of something else (message.tools), not only
    // the target of an assignment ({% set tools = none %}).
    private static bool ReadsVariable(List<string> tokens, string name)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] != name)
            {
                continue;
            }

            var previous = i > 0 ? tokens[i - 1] : null;
            var next = i + 1 < tokens.Count ? tokens[i + 1] : null;
            if (previous == ".")
            {
                continue;
            }

            if (previous == "set" && next == "=")
            {
                continue;
            }

            return true;
        }

        return false;
    }

    // Thinking fields are usually message attributes (message.reasoning_content, "thinking" in message), so any
    // read of the name counts, as does a string literal that is exactly the name (used as a key).
    private static bool ReadsName(List<string> tokens, string name, List<string> literals)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] == name && !(i > 0 && tokens[i - 1] == "set" && i + 1 < tokens.Count && tokens[i + 1] == "="))
            {
                return true;
            }
        }

        return literals.Any(literal => literal == name);
    }

    // The tag's code on one line, cut to a window around the word that proved the point.
    private static string Shorten(string code, string focus)
    {
        var collapsed = string.Join(' ', code.Trim().Trim('-', '+', '~').Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        const int Width = 60;
        if (collapsed.Length <= Width)
        {
            return collapsed;
        }

        var at = Math.Max(0, collapsed.IndexOf(focus, StringComparison.Ordinal));
        var start = Math.Clamp(at - 20, 0, collapsed.Length - Width);
        return (start > 0 ? "…" : string.Empty) + collapsed.Substring(start, Width) + (start + Width < collapsed.Length ? "…" : string.Empty);
    }

    private enum SegmentKind
    {
        Text,
        Statement,
        Expression,
    }

    private readonly record struct Segment(SegmentKind Kind, string Text);

    // Splits a template into raw text, {% statements %} and {{ expressions }}; {# comments #} are dropped.
    // Tag ends inside string literals do not close a tag, as in Jinja's lexer.
    private static IEnumerable<Segment> Segments(string template)
    {
        var position = 0;
        while (position < template.Length)
        {
            var open = template.IndexOf('{', position);
            while (open >= 0 && open + 1 < template.Length && template[open + 1] is not ('{' or '%' or '#'))
            {
                open = template.IndexOf('{', open + 1);
            }

            if (open < 0 || open + 1 >= template.Length)
            {
                yield return new Segment(SegmentKind.Text, template[position..]);
                yield break;
            }

            if (open > position)
            {
                yield return new Segment(SegmentKind.Text, template[position..open]);
            }

            var kind = template[open + 1];
            if (kind == '#')
            {
                var end = template.IndexOf("#}", open + 2, StringComparison.Ordinal);
                position = end < 0 ? template.Length : end + 2;
                continue;
            }

            var closer = kind == '{' ? '}' : '%';
            var close = FindClose(template, open + 2, closer);
            var body = template[(open + 2)..(close < 0 ? template.Length : close)];
            yield return new Segment(kind == '{' ? SegmentKind.Expression : SegmentKind.Statement, body);
            position = close < 0 ? template.Length : close + 2;
        }
    }

    private static int FindClose(string template, int start, char closer)
    {
        char? quote = null;
        for (var i = start; i < template.Length - 1; i++)
        {
            var c = template[i];
            if (quote is { } q)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == q)
                {
                    quote = null;
                }

                continue;
            }

            if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == closer && template[i + 1] == '}')
            {
                return i;
            }
        }

        return -1;
    }

    // Replaces string literals by a placeholder and returns their (unescaped) contents.
    private static string StripStrings(string code, out List<string> literals)
    {
        literals = [];
        var result = new StringBuilder(code.Length);
        for (var i = 0; i < code.Length; i++)
        {
            var c = code[i];
            if (c is not ('\'' or '"'))
            {
                result.Append(c);
                continue;
            }

            var literal = new StringBuilder();
            var j = i + 1;
            for (; j < code.Length && code[j] != c; j++)
            {
                if (code[j] == '\\' && j + 1 < code.Length)
                {
                    j++;
                    literal.Append(code[j] switch { 'n' => '\n', 't' => '\t', _ => code[j] });
                    continue;
                }

                literal.Append(code[j]);
            }

            literals.Add(literal.ToString());
            result.Append(" \"\" ");
            i = j;
        }

        return result.ToString();
    }

    // Identifiers and single punctuation characters (only '.' and '=' matter; '==' is kept whole).
    private static List<string> Tokenise(string code)
    {
        var tokens = new List<string>();
        for (var i = 0; i < code.Length; i++)
        {
            var c = code[i];
            if (char.IsWhiteSpace(c) || c == '-' && (i == 0 || i == code.Length - 1))
            {
                continue;
            }

            if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i + 1 < code.Length && (char.IsLetterOrDigit(code[i + 1]) || code[i + 1] == '_'))
                {
                    i++;
                }

                tokens.Add(code[start..(i + 1)]);
            }
            else if (c == '=' && i + 1 < code.Length && code[i + 1] == '=')
            {
                tokens.Add("==");
                i++;
            }
            else
            {
                tokens.Add(c.ToString());
            }
        }

        return tokens;
    }
}
