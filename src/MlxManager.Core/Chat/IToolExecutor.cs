namespace MlxManager.Core.Chat;

/// <summary>Lists and runs the tools a chat may offer to a model (the MCP client implements it).</summary>
public interface IToolExecutor
{
    /// <summary>The tools to offer, as OpenAI function definitions.</summary>
    ValueTask<IReadOnlyList<ToolDefinition>> ListToolsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs one call. Failures the model should hear about (bad arguments, a tool's own error, an unknown tool)
    /// come back as a result with <see cref="ToolExecutionResult.IsError"/> set, not as exceptions.
    /// </summary>
    ValueTask<ToolExecutionResult> ExecuteAsync(ToolCall call, CancellationToken cancellationToken);
}

/// <summary>What a tool answered: text for the model, and whether it is an error.</summary>
public sealed record ToolExecutionResult(string Content, bool IsError)
{
    /// <summary>A successful result.</summary>
    public static ToolExecutionResult Success(string content) => new(content, false);

    /// <summary>An error the model is told about.</summary>
    public static ToolExecutionResult Failure(string message) => new(message, true);
}
