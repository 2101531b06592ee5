using MlxManager.Core.Engines;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;
using MlxManager.ModelFixtures;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers;

[Collection(ServersCollection.Name)]
public sealed class ServerSupervisorTests(EngineWorld world, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan LoadWait = TimeSpan.FromSeconds(45);
    private SupervisorHost _host = null!;

    public async Task InitializeAsync() => _host = await SupervisorHost.StartAsync(world, output);

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
    }

    [Theory]
    [InlineData(MlxLmServer.EngineKey)]
    [InlineData(MlxVlmServer.EngineKey)]
    [InlineData(MlxOpenAiServer.EngineKey)]
    public async Task Start_GoesThroughLoadingToReady_AndAnswersACompletion(string engine)
    {
        var model = engine == MlxVlmServer.EngineKey ? FixtureCatalog.GemmaVision.RepoId : FixtureCatalog.QwenThinking.RepoId;
        var profile = await _host.AddProfileAsync("p-" + engine, engine, model, "EMULATOR_LOAD_RATE=20M");
        var states = new List<ServerState>();
        _host.Supervisor.Changed += s =>
        {
            lock (states)
            {
                if (s.ServerId == profile.Id && (states.Count == 0 || states[^1] != s.State))
                {
                    states.Add(s.State);
                }
            }
        };

        var started = await _host.Supervisor.StartServerAsync(profile.Id, CancellationToken.None);
        started.Succeeded.ShouldBeTrue(started.Message);
        var ready = await _host.Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(LoadWait);

        ready.ShouldNotBeNull().State.ShouldBe(ServerState.Ready, ready.Detail + "\n" + string.Join("\n", ready.FailureLines));
        lock (states)
        {
            states.ShouldBe([ServerState.Starting, ServerState.Loading, ServerState.Ready]);
        }

        var answer = await Completions.AskAsync(ready.ChatCompletionsUrl, ready.Model.Reference, "Say something [[tokens:5]]");
        answer.ShouldNotBeNullOrWhiteSpace();
        ready.Process.ShouldNotBeNull();
        await EngineProcesses.WaitUntilAsync(() => _host.RunAsync(ready.RunId).GetAwaiter().GetResult()?.State == ServerState.Ready,
            TimeSpan.FromSeconds(5), "the ready state is saved with its run");
    }

    [Fact]
    public async Task Start_TwoServersSideBySide_BothReadyAndAnswering()
    {
        var first = await _host.AddProfileAsync("first", MlxLmServer.EngineKey, FixtureCatalog.LlamaTools.RepoId);
        var second = await _host.AddProfileAsync("second", MlxOpenAiServer.EngineKey, FixtureCatalog.Phi8Bit.RepoId);

        (await _host.Supervisor.StartServerAsync(first.Id, CancellationToken.None)).Succeeded.ShouldBeTrue();
        (await _host.Supervisor.StartServerAsync(second.Id, CancellationToken.None)).Succeeded.ShouldBeTrue();
        var a = await _host.Supervisor.WaitUntilSettledAsync(first.Id, CancellationToken.None).WaitAsync(LoadWait);
        var b = await _host.Supervisor.WaitUntilSettledAsync(second.Id, CancellationToken.None).WaitAsync(LoadWait);

        a!.State.ShouldBe(ServerState.Ready, a.Detail);
        b!.State.ShouldBe(ServerState.Ready, b.Detail);
        a.Process!.Value.Pid.ShouldNotBe(b.Process!.Value.Pid);
        (await Completions.AskAsync(a.ChatCompletionsUrl, a.Model.Reference, "hello [[tokens:3]]")).ShouldNotBeEmpty();
        (await Completions.AskAsync(b.ChatCompletionsUrl, b.Model.Reference, "hello [[tokens:3]]")).ShouldNotBeEmpty();
        _host.Supervisor.Servers.Select(s => s.ServerId).ShouldBe([first.Id, second.Id], ignoreOrder: true);
    }

    [Theory]
    [InlineData(MlxLmServer.EngineKey)]
    [InlineData(MlxOpenAiServer.EngineKey)]
    public async Task Stop_LeavesNoProcessBehind(string engine)
    {
        var profile = await _host.AddProfileAsync("stop-" + engine, engine, FixtureCatalog.QwenThinking.RepoId);
        await StartReadyAsync(profile.Id);
        EngineProcesses.ServingPort(profile.Port).ShouldNotBeEmpty();

        var stopped = await _host.Supervisor.StopServerAsync(profile.Id, CancellationToken.None);

        stopped.Succeeded.ShouldBeTrue(stopped.Message);
        stopped.Server!.State.ShouldBe(ServerState.Stopped);
        EngineProcesses.Find(stopped.Server.Process!.Value.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)).ShouldBeEmpty();
        await EngineProcesses.WaitUntilAsync(() => EngineProcesses.ServingPort(profile.Port).Count == 0, TimeSpan.FromSeconds(5),
            "every emulator process of the server (including mlx-openai-server's model process) has ended");
        EngineProcesses.IsAlive(stopped.Server.Process.Value.Pid).ShouldBeFalse();
        await EngineProcesses.WaitUntilAsync(() => _host.RunAsync(stopped.Server.RunId).GetAwaiter().GetResult()!.State == ServerState.Stopped,
            TimeSpan.FromSeconds(5), "the stop is saved with its run");
    }

    [Fact]
    public async Task Restart_StartsANewProcessThatBecomesReady()
    {
        var profile = await _host.AddProfileAsync("restart", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId);
        var before = await StartReadyAsync(profile.Id);

        var restarted = await _host.Supervisor.RestartServerAsync(profile.Id, CancellationToken.None);
        restarted.Succeeded.ShouldBeTrue(restarted.Message);
        var after = await _host.Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(LoadWait);

        after!.State.ShouldBe(ServerState.Ready, after.Detail);
        after.RunId.ShouldBeGreaterThan(before.RunId);
        after.Process!.Value.Pid.ShouldNotBe(before.Process!.Value.Pid);
        EngineProcesses.IsAlive(before.Process.Value.Pid).ShouldBeFalse();
        (await _host.RunAsync(before.RunId))!.State.ShouldBe(ServerState.Stopped, "a restart waits for the old run to end");
    }

    [Fact]
    public async Task Start_WhenPortTaken_FailsWithClearMessageNamingThePortAndItsHolder()
    {
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((System.Net.IPEndPoint)squatter.LocalEndpoint).Port;
        var profile = await _host.AddProfileAsync("taken", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId, configure: p => p.Port = port);

        var result = await _host.Supervisor.StartServerAsync(profile.Id, CancellationToken.None);

        result.Succeeded.ShouldBeFalse();
        result.Message.ShouldContain($"Port {port} on 127.0.0.1 is already in use by");
        result.Message.ShouldContain($"pid {Environment.ProcessId}");
        result.Server!.State.ShouldBe(ServerState.Failed);
        result.Server.Detail.ShouldBe(result.Message);
        result.Server.Process.ShouldBeNull("nothing was started");
    }

    [Fact]
    public async Task Start_WhenExecutableMissing_FailsWithTheLocatorsInstallHint()
    {
        await using var host = await SupervisorHost.StartAsync(world, output, settings: new Dictionary<string, string?>
        {
            [EngineOptions.PathKey(MlxLmServer.EngineKey)] = "",
            ["MlxManager:Engines:mlx_lm.server:Path"] = "/nonexistent/bin/mlx_lm.server",
        });
        var profile = await host.AddProfileAsync("missing", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId);

        var result = await host.Supervisor.StartServerAsync(profile.Id, CancellationToken.None);

        result.Succeeded.ShouldBeFalse();
        result.Message.ShouldContain("/nonexistent/bin/mlx_lm.server");
        result.Message.ShouldContain("pip install mlx-lm");
        result.Server!.State.ShouldBe(ServerState.Failed);
    }

    [Fact]
    public async Task Start_WhenModelIsNotDownloaded_FailsBeforeStartingAnything()
    {
        var profile = await _host.AddProfileAsync("absent", MlxLmServer.EngineKey, "mlx-community/Not-Downloaded-4bit");

        var result = await _host.Supervisor.StartServerAsync(profile.Id, CancellationToken.None);

        result.Succeeded.ShouldBeFalse();
        result.Message.ShouldContain("mlx-community/Not-Downloaded-4bit is not downloaded");
        result.Server!.Process.ShouldBeNull();
    }

    [Theory]
    [InlineData(MlxOpenAiServer.EngineKey, "", "exited with code 1")]
    [InlineData(MlxLmServer.EngineKey, "EMULATOR_START_MODE=load-first", "exited with code 1")]
    [InlineData(MlxVlmServer.EngineKey, "", "exited with code 3")]
    public async Task Start_UnsupportedModel_WhenTheEngineExits_FailsWithExitCodeAndTraceback(string engine, string environment, string exit)
    {
        var profile = await _host.AddProfileAsync("unsupported-" + engine, engine, FixtureCatalog.Unsupported.RepoId, environment);

        (await _host.Supervisor.StartServerAsync(profile.Id, CancellationToken.None)).Succeeded.ShouldBeTrue();
        var failed = await _host.Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(LoadWait);

        failed!.State.ShouldBe(ServerState.Failed);
        failed.Detail.ShouldContain(exit);
        failed.Detail.ShouldContain("frobnicator");
        failed.FailureLines.ShouldContain(line => line.EndsWith("Traceback (most recent call last):", StringComparison.Ordinal));
        failed.FailureLines.Count.ShouldBeLessThanOrEqualTo(40);
        failed.ExitCode.ShouldNotBeNull();
        ServerRun? row = null;
        await EngineProcesses.WaitUntilAsync(() => (row = _host.RunAsync(failed.RunId).GetAwaiter().GetResult())?.State == ServerState.Failed,
            TimeSpan.FromSeconds(5), "the failure is saved with its run");
        row!.FailureLog.ShouldNotBeNull().ShouldContain("frobnicator");
        row.ExitCode.ShouldBe(failed.ExitCode);
    }

    [Fact]
    public async Task Start_UnsupportedModel_WhenMlxLmKeepsRunning_FailsWithinTwoSecondsOfTheTraceback_AndEndsTheProcess()
    {
        var profile = await _host.AddProfileAsync("thread-crash", MlxLmServer.EngineKey, FixtureCatalog.Unsupported.RepoId);
        DateTimeOffset? failedAt = null;
        _host.Supervisor.Changed += s =>
        {
            if (s.ServerId == profile.Id && s.State == ServerState.Failed)
            {
                failedAt ??= DateTimeOffset.UtcNow;
            }
        };

        (await _host.Supervisor.StartServerAsync(profile.Id, CancellationToken.None)).Succeeded.ShouldBeTrue();
        var failed = await _host.Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(LoadWait);

        failed!.State.ShouldBe(ServerState.Failed);
        failed.Detail.ShouldContain("ValueError: Model type frobnicator not supported.");
        failed.FailureLines.ShouldContain(line => line.StartsWith("Exception in thread", StringComparison.Ordinal));
        var traceback = _host.Supervisor.ReadLog(profile.Id, 0, 1000)!.Lines.First(l => l.Text.StartsWith("Exception in thread", StringComparison.Ordinal));
        (failedAt!.Value - traceback.At).ShouldBeLessThan(TimeSpan.FromSeconds(2), "the fatal signature is recognised within 2 s of being printed");
        var pid = failed.Process!.Value.Pid;
        await EngineProcesses.WaitUntilAsync(() => !EngineProcesses.IsAlive(pid), TimeSpan.FromSeconds(10), "a failed engine that kept running is ended");
        (await _host.Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None))!.State.ShouldBe(ServerState.Failed, "the failure stays the reason after the process ends");
    }

    [Fact]
    public async Task KillNine_OfAReadyEngine_IsReportedAsFailedWithinTwoSeconds()
    {
        var profile = await _host.AddProfileAsync("killed", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId);
        var ready = await StartReadyAsync(profile.Id);
        var failed = new TaskCompletionSource<ServerSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        _host.Supervisor.Changed += s =>
        {
            if (s.ServerId == profile.Id && s.State == ServerState.Failed)
            {
                failed.TrySetResult(s);
            }
        };

        var clock = System.Diagnostics.Stopwatch.StartNew();
        System.Diagnostics.Process.GetProcessById(ready.Process!.Value.Pid).Kill();
        var snapshot = await failed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));

        snapshot.Detail.ShouldContain("was killed by signal 9 (SIGKILL)");
        snapshot.Detail.ShouldContain("after serving for");
    }

    [Fact]
    public async Task CrashWhileServing_IsReportedWithTheAbortAndTheEnginesLastLines()
    {
        var profile = await _host.AddProfileAsync("crash", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId);
        var ready = await StartReadyAsync(profile.Id);

        await Should.ThrowAsync<Exception>(() => Completions.AskAsync(ready.ChatCompletionsUrl, ready.Model.Reference, "please [[crash]]"));
        var failed = await EngineProcesses.WaitUntilAsync(() => _host.Supervisor.Find(profile.Id)!.State == ServerState.Failed, TimeSpan.FromSeconds(10), "the crash is seen");

        var server = _host.Supervisor.Find(profile.Id)!;
        server.Detail.ShouldContain("SIGABRT");
        server.FailureLines.ShouldContain(line => line.Contains("Insufficient Memory", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_WhenTheProbeNeverReturns_FailsAtTheLoadTimeout_AndEndsTheProcess()
    {
        await using var host = await SupervisorHost.StartAsync(world, output, settings: new Dictionary<string, string?>
        {
            ["MlxManager:Servers:LoadTimeout"] = "00:00:03",
        });
        var profile = await host.AddProfileAsync("hang", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId, "EMULATOR_FAULT=hang");

        (await host.Supervisor.StartServerAsync(profile.Id, CancellationToken.None)).Succeeded.ShouldBeTrue();
        var failed = await host.Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        failed!.State.ShouldBe(ServerState.Failed);
        failed.Detail.ShouldContain("within 3.0 s");
        failed.Detail.ShouldContain("LoadTimeout");
        var pid = failed.Process!.Value.Pid;
        await EngineProcesses.WaitUntilAsync(() => !EngineProcesses.IsAlive(pid), TimeSpan.FromSeconds(10), "the hung engine is ended");
    }

    [Fact]
    public async Task Start_WhenTheProbeNeverReturns_FailsAtTheProfilesOwnLoadTimeout_NotTheSetting()
    {
        // The setting gives a minute (SupervisorHost); the profile says 3 s and wins.
        var profile = await _host.AddProfileAsync("hang-own-timeout", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId, "EMULATOR_FAULT=hang", p => p.LoadTimeoutSeconds = 3);

        (await _host.Supervisor.StartServerAsync(profile.Id, CancellationToken.None)).Succeeded.ShouldBeTrue();
        var failed = await _host.Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        failed!.State.ShouldBe(ServerState.Failed);
        failed.Detail.ShouldContain("within 3.0 s (the profile's load timeout)");
    }

    [Fact]
    public async Task Chat_WhileLoading_IsRefusedAsStillLoading_AndWaitReturnsWhenReady()
    {
        var profile = await _host.AddProfileAsync("slow", MlxLmServer.EngineKey, FixtureCatalog.Large.RepoId, "EMULATOR_LOAD_RATE=100M");

        (await _host.Supervisor.StartServerAsync(profile.Id, CancellationToken.None)).Succeeded.ShouldBeTrue();
        await EngineProcesses.WaitUntilAsync(() => _host.Supervisor.Find(profile.Id)!.State == ServerState.Loading, TimeSpan.FromSeconds(20), "it listens");

        var availability = _host.Supervisor.CheckAvailable(profile.Id);
        availability.IsAvailable.ShouldBeFalse();
        availability.Refusal.ShouldBe("The server of \"slow\" is still loading its model; the chat can start once it is ready.");
        var ready = await _host.Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(LoadWait);
        ready!.State.ShouldBe(ServerState.Ready);
        _host.Supervisor.CheckAvailable(profile.Id).IsAvailable.ShouldBeTrue();
        ready.BaseUrl.ShouldBe(new Uri($"http://127.0.0.1:{profile.Port}/"));
    }

    private async Task<ServerSnapshot> StartReadyAsync(int profileId)
    {
        var started = await _host.Supervisor.StartServerAsync(profileId, CancellationToken.None);
        started.Succeeded.ShouldBeTrue(started.Message);
        var ready = await _host.Supervisor.WaitUntilSettledAsync(profileId, CancellationToken.None).WaitAsync(LoadWait);
        ready!.State.ShouldBe(ServerState.Ready, ready.Detail + "\n" + string.Join("\n", ready.FailureLines));
        return ready;
    }
}
