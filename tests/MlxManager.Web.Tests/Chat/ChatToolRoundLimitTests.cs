using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MlxManager.Core.Chat.History;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Engines;
using MlxManager.Core.Profiles;
using MlxManager.Web.Tests.Chat.Infrastructure;

namespace MlxManager.Web.Tests.Chat;

/// <summary>
/// A loopback engine that asks for a tool whenever tools are offered (the emulator's models stop after one round,
/// so they cannot show the limit), and answers in prose when none are. Records the requests it got.
/// </summary>
public sealed class ToolHungryEngine : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public ToolHungryEngine()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public List<JsonElement> Requests { get; } = [];

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream);
            var body = JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement.Clone();
            lock (Requests)
            {
                Requests.Add(body);
            }

            var offered = body.TryGetProperty("tools", out var tools) && tools.GetArrayLength() > 0;
            var round = Requests.Count;
            var delta = offered
                ? "{\"content\":\"\",\"tool_calls\":[{\"index\":0,\"id\":\"call_" + round + "\",\"type\":\"function\",\"function\":{\"name\":\"calculate\",\"arguments\":"
                    + JsonSerializer.Serialize("{\"expression\": \"" + round + "+1\"}") + "}}]}"
                : """{"content":"Giving up on tools: here is my answer."}""";
            var sse = $"data: {{\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":null}}]}}\n\n"
                + $"data: {{\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"{(offered ? "tool_calls" : "stop")}\"}}]}}\n\n"
                + "data: [DONE]\n\n";
            context.Response.ContentType = "text/event-stream";
            var bytes = Encoding.UTF8.GetBytes(sse);
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}

public sealed class RoundLimitHost : ChatHost
{
    public RoundLimitHost()
    {
        Settings["MlxManager:Chat:MaxToolRounds"] = "2";
    }

    public ToolHungryEngine Engine { get; } = new();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Engine.DisposeAsync();
    }
}

/// <summary>The tool loop stops after <c>MlxManager:Chat:MaxToolRounds</c> rounds and asks for an answer without tools.</summary>
public sealed class ChatToolRoundLimitTests(RoundLimitHost host) : IClassFixture<RoundLimitHost>
{
    [Fact]
    public async Task ModelThatKeepsCallingTools_IsStoppedAtTheRoundLimit_AndAnswersWithoutTools()
    {
        var profile = new Profile { Id = 51, Name = "hungry", ModelRef = "scripted/tool-hungry", Engine = MlxLmServer.EngineKey, Host = "127.0.0.1", Port = host.Engine.Port };
        var server = host.Servers.AddReady(profile, new ChatModelCapabilities(Vision: false, Tools: true, Thinking: false, ThinkingOpensInPrompt: false));
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(server.ServerId);

        var turn = await user.TurnAsync(conversation, "Keep calculating");

        turn.Outcome.ShouldBe("answered", turn.Describe());
        var results = turn.OfType("tool-result").Select(e => e.Data).ToList();
        results.Take(2).Select(r => r.GetProperty("content").GetString()).ShouldBe(["2", "3"], "two rounds ran through MCP");
        results[2].GetProperty("isError").GetBoolean().ShouldBeTrue("the third call is answered with the limit, not executed");
        turn.OfType("status").ShouldContain(e => e.Data.GetProperty("text").GetString()!.Contains("limit of 2 tool rounds"));
        host.Engine.Requests.Count.ShouldBe(4);
        host.Engine.Requests.Take(3).ShouldAllBe(r => r.GetProperty("tools").GetArrayLength() == 2);
        host.Engine.Requests[3].TryGetProperty("tools", out _).ShouldBeFalse("the last round offers no tools");
        var saved = await user.SavedMessagesAsync(conversation);
        saved.Select(m => m.Role).ShouldBe([
            ConversationRole.User,
            ConversationRole.Assistant, ConversationRole.Tool,
            ConversationRole.Assistant, ConversationRole.Tool,
            ConversationRole.Assistant, ConversationRole.Tool,
            ConversationRole.Assistant]);
        saved[6].IsError.ShouldBeTrue();
        saved[6].Content.ShouldContain("limit of 2 tool rounds");
        saved[^1].Content.ShouldBe("Giving up on tools: here is my answer.");
    }
}
