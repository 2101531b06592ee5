using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Chat;
using MlxManager.Core.Chat.History;
using MlxManager.Core.Chat.Media;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Data;
using MlxManager.Core.Profiles;
using MlxManager.Web.Accounts;
using MlxManager.Web.Chat;

namespace MlxManager.Web.Pages.Chat;

/// <summary>A profile without a running server that the user may start, offered with a Start button.</summary>
public sealed record StartableProfile(int Id, string Name, string ModelRef, string Engine);

/// <summary>
/// CHAT-01..04: pick a server (or start a profile's), keep conversations per user, stream answers with thinking,
/// attachments and tool calls. Sending posts the message here; the answer streams from /chat/turns/{id}/events.
/// </summary>
[TypeFilter(typeof(SendRequestLimits), Order = SendRequestLimits.Order)]
public sealed class IndexModel(
    ConversationStore conversations,
    IChatServerDirectory servers,
    ChatTurnRunner runner,
    ChatTurns turns,
    AttachmentIntake intake,
    AppDbContext db,
    ChatMarkdown markdown,
    IAuthorizationService authorization) : PageModel
{
    public IReadOnlyList<ConversationSummary> Conversations { get; private set; } = [];

    public IReadOnlyList<ChatServer> Servers { get; private set; } = [];

    public IReadOnlyList<StartableProfile> StartableProfiles { get; private set; } = [];

    public Conversation? Current { get; private set; }

    public ChatServer? CurrentServer { get; private set; }

    public string? ServerProblem { get; private set; }

    public string? MediaRefusal { get; private set; }

    public Guid? RunningTurnId { get; private set; }

    public string? DefaultSystemPrompt { get; private set; }

    [TempData]
    public string? Problem { get; set; }

    public ChatMarkdown Markdown => markdown;

    private string UserId => AccountClaims.UserId(User)!;

    public async Task<IActionResult> OnGetAsync(int? id, CancellationToken cancellationToken)
    {
        await LoadListsAsync(cancellationToken);
        if (id is { } conversationId)
        {
            Current = await conversations.GetAsync(UserId, conversationId, cancellationToken);
            if (Current is null)
            {
                return NotFound();
            }

            await LoadServerAsync(cancellationToken);
            RunningTurnId = turns.RunningFor(conversationId)?.Id;
        }

        return Page();
    }

    /// <summary>The message list, re-rendered after a turn.</summary>
    public async Task<IActionResult> OnGetMessagesAsync(int id, CancellationToken cancellationToken)
    {
        Current = await conversations.GetAsync(UserId, id, cancellationToken);
        return Current is null ? NotFound() : Partial("Partials/_Messages", this);
    }

    /// <summary>The server badge; polls itself while the server starts or loads.</summary>
    public async Task<IActionResult> OnGetServerStatusAsync(int id, CancellationToken cancellationToken)
    {
        Current = await conversations.GetAsync(UserId, id, cancellationToken);
        if (Current is null)
        {
            return NotFound();
        }

        await LoadServerAsync(cancellationToken);
        return Partial("Partials/_ServerStatus", this);
    }

    public async Task<IActionResult> OnPostNewAsync(int serverId, CancellationToken cancellationToken)
    {
        var server = await servers.FindAsync(serverId, cancellationToken);
        if (server is null or { State: ChatServerState.Stopped or ChatServerState.Failed })
        {
            Problem = server?.FailureReason is { } reason ? $"That server failed: {reason}" : "That server is not running any more.";
            return BrowserRedirect(Url.Page("/Chat/Index")!);
        }

        var conversation = await conversations.CreateAsync(UserId, server.Profile.Id, server.Profile.Name, server.ServerId, server.Profile.Thinking != ThinkingMode.Off, cancellationToken);
        return BrowserRedirect($"/chat/{conversation.Id}");
    }

    /// <summary>
    /// A redirect that also works for htmx: the servers tiles' Chat button posts with htmx (the cached tiles carry
    /// no per-user form token; htmx sends it as a header).
    /// </summary>
    private EmptyResult BrowserRedirect(string location)
    {
        HtmxRedirects.RedirectBrowser(HttpContext, location);
        return new EmptyResult();
    }

    public async Task<IActionResult> OnPostStartAsync(int profileId, CancellationToken cancellationToken)
    {
        var profile = await db.Profiles.AsNoTracking().FirstOrDefaultAsync(p => p.Id == profileId, cancellationToken);
        if (profile is null)
        {
            Problem = "That profile no longer exists.";
            return RedirectToPage();
        }

        var start = await servers.StartProfileAsync(profileId, UserId, cancellationToken);
        if (start.ServerId is not { } serverId)
        {
            Problem = start.Problem ?? "The server could not be started.";
            return RedirectToPage();
        }

        var conversation = await conversations.CreateAsync(UserId, profile.Id, profile.Name, serverId, profile.Thinking != ThinkingMode.Off, cancellationToken);
        return Redirect($"/chat/{conversation.Id}");
    }

    public async Task<IActionResult> OnPostRenameAsync(int id, string? title, CancellationToken cancellationToken)
    {
        if (!await conversations.IsOwnedByAsync(UserId, id, cancellationToken))
        {
            return NotFound();
        }

        if (!await conversations.RenameAsync(UserId, id, title ?? "", cancellationToken))
        {
            Problem = "Give the conversation a name.";
        }

        return Redirect($"/chat/{id}");
    }

    public async Task<IActionResult> OnPostDeleteAsync(int id, CancellationToken cancellationToken)
    {
        // Ownership first: someone else's conversation is a 404 whose running answer goes on.
        if (!await conversations.IsOwnedByAsync(UserId, id, cancellationToken))
        {
            return NotFound();
        }

        turns.RunningFor(id)?.Stop();
        await conversations.DeleteAsync(UserId, id, cancellationToken);
        return Redirect("/chat");
    }

    public async Task<IActionResult> OnPostSettingsAsync(int id, string? systemPrompt, bool useDefaultPrompt, bool thinking, bool tools, CancellationToken cancellationToken)
    {
        var prompt = useDefaultPrompt ? null : (systemPrompt ?? "").Replace("\r\n", "\n", StringComparison.Ordinal);
        if (!await conversations.UpdateSettingsAsync(UserId, id, prompt, thinking, tools, cancellationToken))
        {
            return NotFound();
        }

        return Request.Headers.ContainsKey("HX-Request") ? new NoContentResult() : Redirect($"/chat/{id}");
    }

    /// <summary>Saves the user's message with its attachments and starts the answer; JSON for chat.js.</summary>
    public async Task<IActionResult> OnPostSendAsync(int id, string? text, List<IFormFile>? files, CancellationToken cancellationToken)
    {
        text = (text ?? "").Replace("\r\n", "\n", StringComparison.Ordinal).Trim();
        files ??= [];
        if (!await conversations.IsOwnedByAsync(UserId, id, cancellationToken))
        {
            return NotFound(); // before anything else: whether someone else's answer is running is not Bob's business
        }

        if (text.Length == 0 && files.Count == 0)
        {
            return Refuse(StatusCodes.Status422UnprocessableEntity, "Write a message or attach a file.");
        }

        if (turns.RunningFor(id) is not null)
        {
            return Refuse(StatusCodes.Status409Conflict, "An answer is still being written. Stop it or wait for it to finish.");
        }

        IReadOnlyList<StoredAttachment> stored = [];
        if (files.Count > 0)
        {
            // Only attachments need the conversation and its server before the message is saved.
            var conversation = await conversations.GetAsync(UserId, id, cancellationToken);
            if (conversation is null)
            {
                return new NotFoundResult();
            }

            var (server, problem) = await runner.ResolveServerAsync(conversation, cancellationToken);
            if (server is null)
            {
                return Refuse(StatusCodes.Status422UnprocessableEntity, problem ?? "No server is running for this conversation.");
            }

            try
            {
                stored = await intake.AcceptAsync(
                    id,
                    server,
                    files.Select(f => new IncomingAttachment(f.FileName, f.ContentType, f.Length, ct => ReadAsync(f, ct))).ToList(),
                    await conversations.AttachmentBytesAsync(UserId, cancellationToken),
                    cancellationToken);
            }
            catch (AttachmentRejectedException rejected)
            {
                return Refuse(StatusCodes.Status422UnprocessableEntity, rejected.Message);
            }
        }

        var message = await conversations.AddUserMessageAsync(UserId, id, text, stored, cancellationToken);
        if (message is null)
        {
            return new NotFoundResult();
        }

        var turn = turns.Start(UserId, id);
        if (turn is null)
        {
            return Refuse(StatusCodes.Status409Conflict, "An answer is still being written. Stop it or wait for it to finish.");
        }

        return new JsonResult(new { turnId = turn.Id, events = $"/chat/turns/{turn.Id}/events", messageId = message.Id });
    }

    public IActionResult OnPostStop(int id, Guid turnId)
    {
        var turn = turns.Find(turnId, UserId);
        if (turn is null || turn.ConversationId != id)
        {
            return new NotFoundResult();
        }

        turn.Stop();
        return new NoContentResult();
    }

    /// <summary>The saved messages grouped for display: tool results sit under the call that asked for them.</summary>
    public IReadOnlyList<MessageView> MessageViews()
    {
        if (Current is null)
        {
            return [];
        }

        var results = Current.Messages.Where(m => m.Role == ConversationRole.Tool && m.ToolCallId is not null)
            .GroupBy(m => m.ToolCallId!)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var shown = new HashSet<long>();
        var views = new List<MessageView>();
        foreach (var message in Current.Messages)
        {
            switch (message.Role)
            {
                case ConversationRole.User:
                    views.Add(new MessageView(message, []));
                    break;
                case ConversationRole.Assistant:
                    var calls = ConversationStore.ToolCallsOf(message)
                        .Select(c => new ToolCallView(c, results.GetValueOrDefault(c.Id)))
                        .ToList();
                    foreach (var call in calls.Where(c => c.Result is not null))
                    {
                        shown.Add(call.Result!.Id);
                    }

                    views.Add(new MessageView(message, calls));
                    break;
                case ConversationRole.Tool when !shown.Contains(message.Id):
                    views.Add(new MessageView(message, []));
                    break;
            }
        }

        return views;
    }

    /// <summary>Pretty-printed JSON arguments, or the text as it came.</summary>
    public static string FormatArguments(string arguments)
    {
        try
        {
            using var document = JsonDocument.Parse(arguments);
            return JsonSerializer.Serialize(document.RootElement, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }
        catch (JsonException)
        {
            return arguments; // the model wrote invalid JSON: show it as it is
        }
    }

    private static async Task<byte[]> ReadAsync(IFormFile file, CancellationToken cancellationToken)
    {
        using var memory = new MemoryStream((int)Math.Min(file.Length, int.MaxValue));
        await file.CopyToAsync(memory, cancellationToken);
        return memory.ToArray();
    }

    private static JsonResult Refuse(int status, string message) => new(new { error = message }) { StatusCode = status };

    private async Task LoadListsAsync(CancellationToken cancellationToken)
    {
        Conversations = await conversations.ListAsync(UserId, cancellationToken);
        Servers = (await servers.ListAsync(cancellationToken)).Where(s => s.State is not ChatServerState.Stopped).ToList();
        var active = Servers.Where(s => s.State is not ChatServerState.Failed).Select(s => s.Profile.Id).ToHashSet();
        // Members are offered what they may start (profiles that start on demand); administrators every profile.
        var isAdmin = await authorization.IsAdminAsync(User);
        StartableProfiles = (await db.Profiles.AsNoTracking().OrderBy(p => p.Name).ToListAsync(cancellationToken))
            .Where(p => !active.Contains(p.Id) && (isAdmin || p.StartOnDemand))
            .Select(p => new StartableProfile(p.Id, p.Name, p.ModelRef, p.Engine))
            .ToList();
    }

    private async Task LoadServerAsync(CancellationToken cancellationToken)
    {
        (CurrentServer, ServerProblem) = await runner.ResolveServerAsync(Current!, cancellationToken);
        if (CurrentServer is null && Current!.ServerId is { } serverId)
        {
            // Show the failed server itself, with its reason.
            var failed = await servers.FindAsync(serverId, cancellationToken);
            if (failed is { State: ChatServerState.Failed })
            {
                CurrentServer = failed;
            }
        }

        MediaRefusal = CurrentServer is null ? "No server is running." : intake.MediaRefusal(CurrentServer);
        DefaultSystemPrompt = CurrentServer?.Profile.SystemPrompt;
        if (DefaultSystemPrompt is null && Current!.ProfileId is { } profileId)
        {
            DefaultSystemPrompt = await db.Profiles.AsNoTracking().Where(p => p.Id == profileId).Select(p => p.SystemPrompt).FirstOrDefaultAsync(cancellationToken);
        }
    }
}

/// <summary>A message as displayed, with the calls (and their results) of an assistant message.</summary>
public sealed record MessageView(ConversationMessage Message, IReadOnlyList<ToolCallView> Calls);

/// <summary>A tool call and its saved result (null when it was never executed).</summary>
public sealed record ToolCallView(ToolCall Call, ConversationMessage? Result);
