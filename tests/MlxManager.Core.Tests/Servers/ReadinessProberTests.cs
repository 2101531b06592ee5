using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers;

/// <summary>The readiness prober against a real HTTP server that answers the way an engine might.</summary>
[Collection(ServersCollection.Name)]
public sealed class ReadinessProberTests(EngineWorld world, ITestOutputHelper output) : SupervisorHostTest(world, output)
{
    [Fact]
    public async Task ACompletionThatComesBack_MakesTheRunReady()
    {
        var port = SupervisorHost.FreePort();
        using var engine = new ScriptedEngine(port, completionStatus: 200);
        var run = TestRuns.New(TestRuns.MemoryProfile(port, port), port);

        await Host.Services.GetRequiredService<ReadinessProber>().ProbeUntilReadyAsync(run).WaitAsync(TimeSpan.FromSeconds(30));

        run.Current.State.ShouldBe(ServerState.Ready);
        run.Current.Detail.ShouldStartWith("Ready: answered a completion after ");
        engine.Completions.ShouldBe(1);
    }

    [Fact]
    public async Task AnEngineThatRefusesTheRequest_FailsTheRunAfterFiveRefusals()
    {
        var port = SupervisorHost.FreePort();
        using var engine = new ScriptedEngine(port, completionStatus: 400);
        var run = TestRuns.New(TestRuns.MemoryProfile(port, port), port);

        await Host.Services.GetRequiredService<ReadinessProber>().ProbeUntilReadyAsync(run).WaitAsync(TimeSpan.FromSeconds(30));

        run.Current.State.ShouldBe(ServerState.Failed);
        run.Current.Detail.ShouldBe("The engine is up but refuses the readiness request (HTTP 400): {\"error\":\"no such model\"}");
        engine.Completions.ShouldBe(5);
    }

    /// <summary>Answers health with 200 and every completion with one status.</summary>
    private sealed class ScriptedEngine : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _serving;
        private int _completions;

        public ScriptedEngine(int port, int completionStatus)
        {
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _serving = ServeAsync(completionStatus);
        }

        public int Completions => Volatile.Read(ref _completions);

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _serving.Wait(TimeSpan.FromSeconds(5));
        }

        private async Task ServeAsync(int completionStatus)
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return; // stopped
                }

                var isCompletion = context.Request.HttpMethod == "POST";
                if (isCompletion)
                {
                    Interlocked.Increment(ref _completions);
                }

                context.Response.StatusCode = isCompletion ? completionStatus : 200;
                var body = Encoding.UTF8.GetBytes(!isCompletion ? "{\"status\":\"ok\"}" : completionStatus == 200 ? "{\"choices\":[{\"text\":\"a\"}]}" : "{\"error\":\"no such model\"}");
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }
    }
}
