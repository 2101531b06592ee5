using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Chat.History;
using MlxManager.Core.Chat.Media;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Engines;
using MlxManager.Core.Usage;

namespace MlxManager.Core.Chat;

/// <summary>The server is not ready yet: the chat waits for it.</summary>
public sealed record ServerWaiting(ChatServerState State, string ServerName) : ChatStreamEvent;

/// <summary>The server the turn waited for is ready.</summary>
public sealed record ServerReady(string ServerName) : ChatStreamEvent;

/// <summary>Something the user should know that does not stop the turn (e.g. a tool server is unreachable).</summary>
public sealed record ChatNotice(string Message) : ChatStreamEvent;

/// <summary>A message of the turn was saved to the conversation.</summary>
public sealed record MessageSaved(long MessageId, ConversationRole Role) : ChatStreamEvent;

/// <summary>
/// Runs one turn of a saved conversation: finds its server (waiting while it loads, saying why when it failed),
/// sends the history (thinking stripped, attachments as the engine takes them, tools when offered) with the profile's
/// model and request defaults, streams the answer, runs tool calls through MCP, and saves every message of the turn.
/// The user's message must already be saved. Events are <see cref="ToolLoop"/>'s plus <see cref="ServerWaiting"/>,
/// <see cref="ServerReady"/>, <see cref="ChatNotice"/> and <see cref="MessageSaved"/>; the last is always
/// <see cref="TurnEnded"/>.
/// </summary>
public sealed partial class ChatTurnRunner(
    IServiceScopeFactory scopes,
    IChatServerDirectory servers,
    EngineRegistry engines,
    IChatToolSource toolSource,
    AttachmentStore files,
    VideoFrameExtractor frameExtractor,
    IOptions<ChatOptions> chatOptions,
    ToolLoopOptions loopOptions,
    TimeProvider time,
    ILoggerFactory loggers,
    UsageLedger? ledger = null,
    UsageQuotas? quotas = null)
{
    private readonly ILogger _logger = loggers.CreateLogger<ChatTurnRunner>();

    /// <summary>
    /// Runs the turn answering the last user message of <paramref name="conversationId"/>. The turn is one usage-ledger
    /// row (<see cref="ChatTurnMeter"/>), recorded however it ends, and counts toward the user's quota
    /// (<see cref="UsageQuotas"/>): over it, the turn ends at once with the reason.
    /// </summary>
    public async IAsyncEnumerable<ChatStreamEvent> RunAsync(string userId, int conversationId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var meter = new ChatTurnMeter(userId, time);
        try
        {
            await foreach (var e in RunTurnAsync(userId, conversationId, meter, cancellationToken).ConfigureAwait(false))
            {
                meter.Observe(e);
                yield return e;
            }
        }
        finally
        {
            ledger?.Record(meter.Finish());
        }
    }

    private async IAsyncEnumerable<ChatStreamEvent> RunTurnAsync(string userId, int conversationId, ChatTurnMeter meter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<ConversationStore>();
        var conversation = await store.GetAsync(userId, conversationId, cancellationToken).ConfigureAwait(false);
        if (conversation is null)
        {
            yield return new TurnEnded(TurnOutcome.Failed, "This conversation does not exist.");
            yield break;
        }

        meter.Conversation(conversation.ProfileId, conversation.ProfileName);
        using var quota = quotas?.Admit(userId);
        if (quota?.Refusal is { } refusal)
        {
            meter.Refused(refusal);
            yield return new TurnEnded(TurnOutcome.Failed, refusal.Message);
            yield break;
        }

        var (server, problem) = await ResolveServerAsync(conversation, cancellationToken).ConfigureAwait(false);
        if (server is null)
        {
            yield return new TurnEnded(TurnOutcome.Failed, problem);
            yield break;
        }

        if (server.State is ChatServerState.Starting or ChatServerState.Loading)
        {
            yield return new ServerWaiting(server.State, server.Profile.Name);
            var waited = await WaitAsync(server.ServerId, cancellationToken).ConfigureAwait(false);
            if (waited.Stopped)
            {
                yield return new TurnEnded(TurnOutcome.Stopped, null);
                yield break;
            }

            server = waited.Server;
            if (server is not { State: ChatServerState.Ready })
            {
                yield return new TurnEnded(TurnOutcome.Failed, Unavailable(server, conversation.ProfileName));
                yield break;
            }

            yield return new ServerReady(server.Profile.Name);
        }

        meter.Server(server);

        // The turn is use of the server: the gateway's idle unloader never stops it mid-answer and counts idle time from its end.
        using var activity = scope.ServiceProvider.GetService<Gateway.GatewayLanes>()?.Join(server.Profile.Id, user: new Gateway.LaneUser(userId, Usage.UsageSource.Chat));
        if (conversation.ServerId != server.ServerId)
        {
            await store.SetServerAsync(conversationId, server.ServerId, server.Profile.Id, server.Profile.Name, CancellationToken.None).ConfigureAwait(false);
        }

        var engineKey = server.Profile.Engine;
        engines.TryGet(engineKey, out var engine);
        var settings = chatOptions.Value;
        var delivery = ChatEngineTraits.DeliveryFor(engineKey, settings.VideoDelivery);
        var mediaAllowed = server.Model.Vision && ChatEngineTraits.AcceptsImages(engine);
        var notices = new List<string>();
        var history = await ToChatMessagesAsync(conversation, mediaAllowed, delivery, notices, cancellationToken).ConfigureAwait(false);
        meter.Prompt(history);
        foreach (var notice in notices)
        {
            yield return new ChatNotice(notice);
        }

        var thinking = server.Model.Thinking ? conversation.ThinkingEnabled : (bool?)null;
        var defaults = engine?.BuildRequestDefaults(server.Profile) ?? new JsonObject();
        if (thinking is { } on && ChatEngineTraits.TakesTopLevelThinkingSwitch(engineKey))
        {
            defaults["enable_thinking"] = on;
        }

        var options = new ChatRequestOptions
        {
            Model = server.ModelReference,
            DefaultSystemPrompt = server.Profile.SystemPrompt,
            EnableThinking = thinking,
            VideoDelivery = delivery,
            RequestDefaults = defaults,
        };
        var thinkingStart = thinking == true && server.Model.ThinkingOpensInPrompt ? ThinkingStart.InThinking : ThinkingStart.InAnswer;

        ChatToolConnection? tools = null;
        IReadOnlyList<ToolDefinition> toolDefinitions = [];
        if (server.Model.Tools && conversation.ToolsEnabled)
        {
            (tools, toolDefinitions, var toolProblems) = await ConnectToolsAsync(userId, cancellationToken).ConfigureAwait(false);
            foreach (var toolProblem in toolProblems)
            {
                yield return new ChatNotice(toolProblem);
            }
        }

        try
        {
            var client = scope.ServiceProvider.GetRequiredService<EngineChatClient>();
            var url = server.ChatCompletionsUri;
            CompletionStreamer streamer = (round, ct) => client.StreamAsync(
                url,
                ChatRequestBuilder.Build(round.Messages, options with { Tools = round.OfferTools && toolDefinitions.Count > 0 ? toolDefinitions : null }),
                thinkingStart,
                ct);
            var loop = new ToolLoop(toolDefinitions.Count > 0 ? tools?.Executor : null, time, loggers.CreateLogger<ToolLoop>());
            string? lastError = null;
            await foreach (var e in loop.RunAsync(history, streamer, loopOptions, cancellationToken).ConfigureAwait(false))
            {
                switch (e)
                {
                    case EngineError error:
                        lastError = error.Message;
                        yield return e;
                        break;
                    case MessageCompleted completed:
                        yield return e;
                        if (completed.Message is AssistantMessage { Content.Length: 0, Reasoning: null, Calls.Count: 0 } && completed.Incomplete && lastError is null)
                        {
                            break; // stopped before anything arrived: nothing to keep
                        }

                        var saved = await store.AddTurnMessageAsync(conversationId, completed, server.ModelReference, lastError ?? (completed.Incomplete ? "Stopped." : null), CancellationToken.None).ConfigureAwait(false);
                        yield return new MessageSaved(saved.Id, saved.Role);
                        break;
                    default:
                        yield return e;
                        break;
                }
            }
        }
        finally
        {
            if (tools is not null)
            {
                await tools.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The conversation's server: its last one if still there, else a running server of its profile.</summary>
    public async Task<(ChatServer? Server, string? Problem)> ResolveServerAsync(Conversation conversation, CancellationToken cancellationToken)
    {
        ChatServer? server = null;
        if (conversation.ServerId is { } serverId)
        {
            server = await servers.FindAsync(serverId, cancellationToken).ConfigureAwait(false);
        }

        if (server is null or { State: ChatServerState.Stopped or ChatServerState.Failed } && conversation.ProfileId is { } profileId)
        {
            var all = await servers.ListAsync(cancellationToken).ConfigureAwait(false);
            var alive = all.Where(s => s.Profile.Id == profileId && s.State is not (ChatServerState.Stopped or ChatServerState.Failed))
                .OrderBy(s => s.State == ChatServerState.Ready ? 0 : 1)
                .FirstOrDefault();
            server = alive ?? server ?? all.FirstOrDefault(s => s.Profile.Id == profileId);
        }

        return server is null or { State: ChatServerState.Stopped or ChatServerState.Failed }
            ? (null, Unavailable(server, conversation.ProfileName))
            : (server, null);
    }

    private static string Unavailable(ChatServer? server, string? profileName) => server switch
    {
        { State: ChatServerState.Failed } => $"The server of {server.Profile.Name} failed: {server.FailureReason ?? "no reason was recorded"}. Fix the profile or the model on the Servers page, then start it again.",
        { State: ChatServerState.Stopped } => $"The server of {server.Profile.Name} is stopped. Start it to continue this conversation.",
        null when profileName is not null => $"No server of {profileName} is running. Start it to continue this conversation.",
        _ => "No server is running for this conversation. Pick a running server or start one.",
    };

    private async Task<(ChatServer? Server, bool Stopped)> WaitAsync(int serverId, CancellationToken cancellationToken)
    {
        try
        {
            return (await servers.WaitUntilReadyOrFailedAsync(serverId, cancellationToken).ConfigureAwait(false), false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (null, true);
        }
    }

    private async Task<(ChatToolConnection? Connection, IReadOnlyList<ToolDefinition> Tools, IReadOnlyList<string> Problems)> ConnectToolsAsync(string userId, CancellationToken cancellationToken)
    {
        ChatToolConnection? connection = null;
        try
        {
            connection = await toolSource.ConnectAsync(userId, cancellationToken).ConfigureAwait(false);
            var definitions = await connection.Executor.ListToolsAsync(cancellationToken).ConfigureAwait(false);
            return (connection, definitions, connection.Problems);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogToolsUnavailable(_logger, ex);
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            return (null, [], [$"Tools are unavailable for this answer: {ex.Message}"]);
        }
    }

    private async Task<List<ChatMessage>> ToChatMessagesAsync(Conversation conversation, bool mediaAllowed, VideoDelivery delivery, List<string> notices, CancellationToken cancellationToken)
    {
        var messages = new List<ChatMessage>(conversation.Messages.Count + 1);
        if (conversation.SystemPrompt is { } prompt)
        {
            messages.Add(new SystemMessage(prompt));
        }

        foreach (var message in conversation.Messages)
        {
            switch (message.Role)
            {
                case ConversationRole.User:
                    messages.Add(await ToUserMessageAsync(conversation.Id, message, mediaAllowed, delivery, notices, cancellationToken).ConfigureAwait(false));
                    break;
                case ConversationRole.Assistant:
                    var calls = ConversationStore.ToolCallsOf(message);
                    if (message.Content.Length > 0 || calls.Count > 0)
                    {
                        messages.Add(new AssistantMessage(message.Content, message.Reasoning, calls.Count > 0 ? calls : null));
                    }

                    break;
                case ConversationRole.Tool:
                    messages.Add(new ToolResultMessage(message.ToolCallId ?? "", message.ToolName ?? "", message.Content, message.IsError));
                    break;
            }
        }

        return messages;
    }

    private async Task<UserMessage> ToUserMessageAsync(int conversationId, ConversationMessage message, bool mediaAllowed, VideoDelivery delivery, List<string> notices, CancellationToken cancellationToken)
    {
        var parts = new List<MessagePart>();
        if (message.Content.Length > 0)
        {
            parts.Add(new TextPart(message.Content));
        }

        foreach (var attachment in message.Attachments.OrderBy(a => a.Id))
        {
            if (attachment.Kind is AttachmentKind.Image or AttachmentKind.Video && !mediaAllowed)
            {
                parts.Add(new TextPart($"\n[{attachment.Kind.ToString().ToLowerInvariant()} {attachment.FileName} left out: this server does not take images]"));
                continue;
            }

            byte[] data;
            try
            {
                data = await files.ReadAsync(conversationId, attachment.StoredName, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogAttachmentMissing(_logger, attachment.StoredName, ex);
                notices.Add($"The attachment {attachment.FileName} could not be read and was left out.");
                continue;
            }

            switch (attachment.Kind)
            {
                case AttachmentKind.Image:
                    parts.Add(new ImagePart(attachment.MediaType, data, attachment.FileName));
                    break;
                case AttachmentKind.Video when delivery == VideoDelivery.VideoUrl:
                    parts.Add(VideoPart.FromBytes(attachment.MediaType, data, fileName: attachment.FileName));
                    break;
                case AttachmentKind.Video:
                    try
                    {
                        var framePaths = await frameExtractor.ExtractAsync(
                            files.PathOf(conversationId, attachment.StoredName),
                            files.FramesFolderOf(conversationId, attachment.StoredName),
                            cancellationToken).ConfigureAwait(false);
                        var frames = new List<ImagePart>(framePaths.Count);
                        foreach (var path in framePaths)
                        {
                            frames.Add(new ImagePart("image/jpeg", await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), Path.GetFileName(path)));
                        }

                        parts.Add(new VideoPart("", frames, attachment.FileName));
                    }
                    catch (AttachmentRejectedException ex)
                    {
                        notices.Add($"The video {attachment.FileName} was left out: {ex.Message}");
                        parts.Add(new TextPart($"\n[video {attachment.FileName} left out: {ex.Message}]"));
                    }

                    break;
                default:
                    parts.Add(new TextFilePart(attachment.FileName, Encoding.UTF8.GetString(data)));
                    break;
            }
        }

        return new UserMessage(parts);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tools could not be listed for a chat turn")]
    private static partial void LogToolsUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The attachment {StoredName} could not be read")]
    private static partial void LogAttachmentMissing(ILogger logger, string storedName, Exception exception);
}
