namespace MlxManager.Core.Chat.History;

/// <summary>An MCP server an admin added: its tools are offered beside the built-in ones.</summary>
public sealed class McpServerRegistration
{
    public int Id { get; set; }

    public string Name { get; set; } = "";

    /// <summary>The Streamable HTTP endpoint, e.g. <c>https://tools.example.com/mcp</c>.</summary>
    public string Url { get; set; } = "";

    /// <summary>The bearer token to send, encrypted with the app's data protection (never shown again).</summary>
    public string? ProtectedBearerToken { get; set; }

    public bool Enabled { get; set; } = true;

    public DateTime CreatedAtUtc { get; set; }
}
