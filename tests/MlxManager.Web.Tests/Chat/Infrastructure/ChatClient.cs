using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Chat.History;
using MlxManager.Core.Data;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Chat.Infrastructure;

/// <summary>One SSE event of a turn.</summary>
public sealed record TurnEvent(string Type, JsonElement Data, TimeSpan At);

/// <summary>Everything a turn streamed, in order.</summary>
public sealed record TurnResult(IReadOnlyList<TurnEvent> Events)
{
    public IEnumerable<TurnEvent> OfType(string type) => Events.Where(e => e.Type == type);

    public JsonElement Done => Events.Last(e => e.Type == "done").Data;

    public string Outcome => Done.GetProperty("outcome").GetString()!;

    public string? Error => Done.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;

    /// <summary>
    /// The answer of the last round as the page builds it: a whole answer replaces it, a delta (with <c>at</c>) keeps
    /// its first <c>at</c> characters and appends.
    /// </summary>
    public string LastAnswerHtml => OfType("answer").Aggregate("", (html, e) =>
        (e.Data.TryGetProperty("at", out var at) ? html[..at.GetInt32()] : "") + e.Data.GetProperty("html").GetString());

    /// <summary>The thinking of every round as the page builds it: deltas append, a whole copy (<c>full</c>) replaces the round's.</summary>
    public string Thinking
    {
        get
        {
            var earlier = new StringBuilder();
            var current = "";
            foreach (var e in Events)
            {
                if (e.Type == "round")
                {
                    earlier.Append(current);
                    current = "";
                }
                else if (e.Type == "thinking")
                {
                    var text = e.Data.GetProperty("text").GetString();
                    current = e.Data.TryGetProperty("full", out var full) && full.GetBoolean() ? text! : current + text;
                }
            }

            return earlier.Append(current).ToString();
        }
    }

    public string Describe() => string.Join("\n", Events.Select(e => $"{e.At.TotalMilliseconds,7:0} {e.Type}: {e.Data}"));
}

/// <summary>Drives the chat as the page's script does: forms with antiforgery tokens, the send handler, the SSE stream.</summary>
public sealed partial class ChatClient(AppClient app, MlxManagerFactory factory) : IDisposable
{
    public AppClient App { get; } = app;

    /// <summary>The account's address.</summary>
    public string Email { get; init; } = "";

    public async Task<int> NewConversationAsync(int serverId)
    {
        var response = await App.PostFormAsync("/chat?handler=New", new Dictionary<string, string> { ["serverId"] = serverId.ToString() }, "/chat");
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        return int.Parse(response.Headers.Location!.OriginalString.Split('/').Last());
    }

    /// <summary>Posts a message (and files); returns the raw response.</summary>
    public async Task<HttpResponseMessage> PostMessageAsync(int conversationId, string text, params (string Name, string ContentType, byte[] Data)[] files)
    {
        var token = await App.FormTokenAsync("/chat");
        using var form = new MultipartFormDataContent
        {
            { new StringContent(token), "__RequestVerificationToken" },
            { new StringContent(text), "text" },
        };
        foreach (var (name, contentType, data) in files)
        {
            var file = new ByteArrayContent(data);
            file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            form.Add(file, "files", name);
        }

        return await App.Http.PostAsync($"/chat/{conversationId}?handler=Send", form);
    }

    /// <summary>Sends and returns the turn id.</summary>
    public async Task<Guid> SendAsync(int conversationId, string text, params (string Name, string ContentType, byte[] Data)[] files)
    {
        var response = await PostMessageAsync(conversationId, text, files);
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("turnId").GetGuid();
    }

    /// <summary>Sends and reads the whole turn.</summary>
    public async Task<TurnResult> TurnAsync(int conversationId, string text, params (string Name, string ContentType, byte[] Data)[] files) =>
        await ReadTurnAsync(await SendAsync(conversationId, text, files));

    /// <summary>Reads a turn's SSE stream to its end; <paramref name="onEvent"/> sees each event as it arrives.</summary>
    public async Task<TurnResult> ReadTurnAsync(Guid turnId, Func<TurnEvent, Task>? onEvent = null, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/chat/turns/{turnId}/events");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await App.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var events = new List<TurnEvent>();
        await using var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? type = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancel.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (type is not null)
                {
                    using var document = JsonDocument.Parse(data.ToString());
                    var e = new TurnEvent(type, document.RootElement.Clone(), clock.Elapsed);
                    events.Add(e);
                    if (onEvent is not null)
                    {
                        await onEvent(e);
                    }
                }

                type = null;
                data.Clear();
                continue;
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line[6..]);
            }
        }

        events.ShouldContain(e => e.Type == "done", "the stream must end with done");
        return new TurnResult(events);
    }

    public async Task<HttpResponseMessage> StopAsync(int conversationId, Guid turnId)
    {
        var token = await App.FormTokenAsync($"/chat/{conversationId}");
        return await App.Http.PostAsync($"/chat/{conversationId}?handler=Stop&turnId={turnId}",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
    }

    /// <summary>The saved messages of a conversation, read from the database.</summary>
    public async Task<List<ConversationMessage>> SavedMessagesAsync(int conversationId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.ConversationMessages.AsNoTracking().Include(m => m.Attachments)
            .Where(m => m.ConversationId == conversationId).OrderBy(m => m.Sequence).ToListAsync();
    }

    /// <summary>The last saved assistant answer's text.</summary>
    public async Task<ConversationMessage> LastAnswerAsync(int conversationId) =>
        (await SavedMessagesAsync(conversationId)).Last(m => m.Role == ConversationRole.Assistant);

    /// <summary>The JSON the emulator echoed for <c>[[echo]]</c> (the answer is that JSON).</summary>
    public async Task<JsonElement> EchoAsync(int conversationId, string text, params (string Name, string ContentType, byte[] Data)[] files)
    {
        var turn = await TurnAsync(conversationId, text, files);
        turn.Outcome.ShouldBe("answered", turn.Describe());
        var answer = (await LastAnswerAsync(conversationId)).Content;
        var start = answer.IndexOf('{');
        using var json = JsonDocument.Parse(answer[start..]);
        return json.RootElement.Clone();
    }

    public void Dispose() => App.Dispose();

    [GeneratedRegex("<[^>]+>")]
    public static partial Regex Tags();
}
