using MlxManager.Core.Discovery;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Chat.Servers;

/// <summary>
/// What the chat needs to know about the model servers the manager runs: which exist, what they serve, whether
/// they are ready, and how to start one for a profile. The server supervisor implements it; the chat never starts,
/// stops or probes engines itself.
/// </summary>
/// <remarks>
/// Implementations must be thread-safe singletons. States are snapshots: the chat asks again (or waits with
/// <see cref="WaitUntilReadyOrFailedAsync"/>) rather than caching them.
/// </remarks>
public interface IChatServerDirectory
{
    /// <summary>Every server the chat may show (running, loading, failed or recently stopped), newest first.</summary>
    ValueTask<IReadOnlyList<ChatServer>> ListAsync(CancellationToken cancellationToken);

    /// <summary>The server with <paramref name="serverId"/>, or null when it is unknown (e.g. removed).</summary>
    ValueTask<ChatServer?> FindAsync(int serverId, CancellationToken cancellationToken);

    /// <summary>
    /// Completes when the server is <see cref="ChatServerState.Ready"/>, <see cref="ChatServerState.Failed"/> or
    /// <see cref="ChatServerState.Stopped"/> (returns that snapshot), or null when the server is unknown. Cancelling
    /// <paramref name="cancellationToken"/> stops the wait, not the server.
    /// </summary>
    Task<ChatServer?> WaitUntilReadyOrFailedAsync(int serverId, CancellationToken cancellationToken);

    /// <summary>
    /// Starts (or finds already running) the server of <paramref name="profileId"/> on behalf of
    /// <paramref name="userId"/>; returns at once, while the engine loads. The supervisor decides whether that user
    /// may start servers and says why not in <see cref="ChatServerStart.Problem"/>.
    /// </summary>
    Task<ChatServerStart> StartProfileAsync(int profileId, string userId, CancellationToken cancellationToken);
}

/// <summary>Where a server is in its life.</summary>
public enum ChatServerState
{
    /// <summary>The process is starting (not listening yet).</summary>
    Starting,

    /// <summary>The process runs and is loading the model; requests would wait or fail.</summary>
    Loading,

    /// <summary>The engine answered a real completion: chat works.</summary>
    Ready,

    /// <summary>Start-up or loading failed, or the process died; <see cref="ChatServer.FailureReason"/> says why.</summary>
    Failed,

    /// <summary>Stopped on purpose.</summary>
    Stopped,
}

/// <summary>One model server as the chat sees it.</summary>
/// <param name="ServerId">The supervisor's id of this server (run).</param>
/// <param name="Profile">The profile it was started from (engine, host, port, sampling, default system prompt).</param>
/// <param name="ModelReference">
/// What the engine was given as its model (after <c>--model</c>/<c>--model-path</c>): the chat always sends it as the
/// request's <c>model</c>, whatever a client asks for.
/// </param>
/// <param name="Model">What the model can do, detected from its files (not the profile's labels).</param>
/// <param name="State">Where the server is now.</param>
/// <param name="FailureReason">Why it failed (the supervisor's message, e.g. the engine's last error line).</param>
public sealed record ChatServer(
    int ServerId,
    Profile Profile,
    string ModelReference,
    ChatModelCapabilities Model,
    ChatServerState State,
    string? FailureReason = null)
{
    /// <summary>
    /// <c>http://host:port/</c> built only from the profile's host and port (a wildcard bind address is reached on
    /// loopback). The chat never posts anywhere else.
    /// </summary>
    public Uri BaseUri => EngineAddress.BaseUri(Profile.Host, Profile.Port);

    /// <summary><see cref="BaseUri"/> + <c>v1/chat/completions</c>.</summary>
    public Uri ChatCompletionsUri => new(BaseUri, "v1/chat/completions");

    /// <summary>A short label: profile name and model.</summary>
    public string DisplayName => $"{Profile.Name} · {ModelReference}";
}

/// <summary>
/// What the detected model can do, as far as the chat cares. Built from Discovery's characteristics with
/// <see cref="FromCharacteristics"/>; unknown counts as "no" (the chat does not offer what it cannot prove).
/// </summary>
/// <param name="Vision">The model takes images (config has a vision tower).</param>
/// <param name="Tools">The chat template renders tools.</param>
/// <param name="Thinking">The model thinks (template switch or markers).</param>
/// <param name="ThinkingOpensInPrompt">The template opens <c>&lt;think&gt;</c> in the prompt: the stream starts inside thinking.</param>
public sealed record ChatModelCapabilities(bool Vision, bool Tools, bool Thinking, bool ThinkingOpensInPrompt)
{
    /// <summary>Nothing known: text only, no tools, no thinking.</summary>
    public static ChatModelCapabilities TextOnly { get; } = new(false, false, false, false);

    /// <summary>Reads the chat-relevant facts of <paramref name="model"/>.</summary>
    public static ChatModelCapabilities FromCharacteristics(ModelCharacteristics? model) => model is null
        ? TextOnly
        : new(model.Vision?.Value == true, model.Tools.Supported == true, model.Thinking.Supported == true, model.ThinkingOpensInPrompt);
}

/// <summary>Result of <see cref="IChatServerDirectory.StartProfileAsync"/>.</summary>
/// <param name="ServerId">The server now starting (or already running), when it worked.</param>
/// <param name="Problem">Why it could not start, in words for the user.</param>
public sealed record ChatServerStart(int? ServerId, string? Problem)
{
    /// <summary>Started (or already running).</summary>
    public static ChatServerStart Started(int serverId) => new(serverId, null);

    /// <summary>Refused or failed.</summary>
    public static ChatServerStart Refused(string problem) => new(null, problem);
}

/// <summary>Turns a profile's bind address into the address the manager connects to.</summary>
public static class EngineAddress
{
    /// <summary><c>http://host:port/</c>; <c>0.0.0.0</c>/<c>::</c>/empty become loopback, IPv6 literals get brackets.</summary>
    public static Uri BaseUri(string? host, int port)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var h = (host ?? "").Trim();
        h = h switch
        {
            "" or "0.0.0.0" or "*" => "127.0.0.1",
            "::" or "[::]" => "[::1]",
            _ when h.Contains(':', StringComparison.Ordinal) && !h.StartsWith('[') => $"[{h}]",
            _ => h,
        };
        var builder = new UriBuilder(Uri.UriSchemeHttp, h, port, "/");
        return builder.Uri;
    }
}
