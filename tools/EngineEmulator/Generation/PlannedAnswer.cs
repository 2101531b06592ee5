namespace MlxManager.EngineEmulator.Generation;

/// <summary>Where a generated token goes once the engine has parsed the model's text.</summary>
public enum TokenChannel
{
    Reasoning,
    Content,
    ToolCall,
}

/// <summary>A token's place inside a tool call's text.</summary>
public enum ToolTokenRole
{
    None,
    /// <summary>The opening markup up to the arguments (carries the name).</summary>
    Open,
    /// <summary>A piece of the arguments JSON.</summary>
    Arguments,
    /// <summary>The closing markup: the call is complete.</summary>
    Close,
}

/// <summary>A tool call the model decides to make.</summary>
public sealed record PlannedToolCall(int Index, string Name, string Arguments);

/// <summary>One token of the answer, in generation order.</summary>
public sealed record PlannedToken(TokenChannel Channel, string Text, PlannedToolCall? Call = null, ToolTokenRole Role = ToolTokenRole.None);

/// <summary>How a request's thinking comes out, decided per flavour from the template, flags and request.</summary>
public enum ThinkingOutput
{
    None,
    /// <summary>Separated by the engine's parser.</summary>
    Parsed,
    /// <summary><c>&lt;think&gt;…&lt;/think&gt;</c> in the content, tags split across tokens.</summary>
    InlineTags,
    /// <summary>Only <c>&lt;/think&gt;</c> in the content, split across tokens.</summary>
    InlineClosingOnly,
}

/// <summary>How a request's tool calls come out.</summary>
public enum ToolOutput
{
    /// <summary>Tools absent, or the template can't render them: a plain answer.</summary>
    Ignored,
    /// <summary>The engine parses the calls out of the text.</summary>
    Parsed,
    /// <summary>The model writes the calls but no parser is configured: the markup stays in the content.</summary>
    RawText,
}

/// <summary>Faults a prompt can ask for.</summary>
public enum PromptFault
{
    None,
    Crash,
    Hang,
}

/// <summary>The whole answer, token by token, plus the fault the prompt asked for.</summary>
public sealed record PlannedAnswer(IReadOnlyList<PlannedToken> Tokens, PromptFault Fault)
{
    public IEnumerable<PlannedToolCall> ToolCalls => Tokens.Where(t => t.Role == ToolTokenRole.Open).Select(t => t.Call!);
}
