namespace MlxManager.Core.Chat;

/// <summary>Opens the tools one turn of a user may call (the web host connects MCP clients to its own and admin-added servers).</summary>
public interface IChatToolSource
{
    /// <summary>Connects for <paramref name="userId"/>; the caller disposes the connection when the turn ends.</summary>
    Task<ChatToolConnection> ConnectAsync(string userId, CancellationToken cancellationToken);
}

/// <summary>The tools of one turn and what could not be reached.</summary>
/// <param name="Executor">Lists and runs the tools.</param>
/// <param name="Problems">Tool servers that could not be reached, in words for the user.</param>
/// <param name="Resources">Connections to close when the turn ends.</param>
public sealed class ChatToolConnection(IToolExecutor executor, IReadOnlyList<string> problems, IReadOnlyList<IAsyncDisposable> resources) : IAsyncDisposable
{
    public IToolExecutor Executor { get; } = executor;

    public IReadOnlyList<string> Problems { get; } = problems;

    public async ValueTask DisposeAsync()
    {
        foreach (var resource in resources)
        {
            await resource.DisposeAsync().ConfigureAwait(false);
        }
    }
}
