using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Engines;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;
using MlxManager.ModelFixtures;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers;

[Collection(ServersCollection.Name)]
public sealed class ServerLauncherTests(EngineWorld world, ITestOutputHelper output) : SupervisorHostTest(world, output)
{
    private const string Secret = "hf_launcher_secret_value";
    [Fact]
    public async Task Launch_GivesTheEngineTheEnvironment_ButTheLogAndTheRunRecordOnlyItsNames()
    {
        var profile = await Host.AddProfileAsync("secretive", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId, $"HF_TOKEN={Secret}");
        var launcher = Host.Services.GetRequiredService<ServerLauncher>();

        var started = await launcher.LaunchAsync(profile.Id, CancellationToken.None);
        started.Succeeded.ShouldBeTrue(started.Message);
        var ready = await Host.Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(45));

        ready!.State.ShouldBe(ServerState.Ready, ready.Detail);
        var environment = await File.ReadAllTextAsync($"/proc/{ready.Process!.Value.Pid}/environ");
        environment.Split('\0').ShouldContain($"HF_TOKEN={Secret}", "the engine gets the value");
        ready.CommandLine.ShouldContain("HF_TOKEN=***");
        ready.CommandLine.ShouldNotContain(Secret);
        var log = await File.ReadAllTextAsync(Host.Supervisor.LogFileOf(profile.Id)!);
        log.ShouldContain("HF_TOKEN=*** ");
        log.ShouldNotContain(Secret);
        (await Host.RunAsync(ready.RunId))!.CommandLine.ShouldNotBeNull().ShouldNotContain(Secret);
        await Host.Supervisor.StopServerAsync(profile.Id, CancellationToken.None);
    }

    [Fact]
    public async Task Launch_CancelledWhilePlanning_EndsTheRunItCreated_InsteadOfLeavingItStarting()
    {
        var profile = await Host.AddProfileAsync("cancelled", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId);
        using var cancel = new CancellationTokenSource();
        Host.Supervisor.Changed += s =>
        {
            if (s.ServerId == profile.Id && s.Detail == "Preparing to start.")
            {
                cancel.Cancel();
            }
        };

        await Should.ThrowAsync<OperationCanceledException>(() => Host.Services.GetRequiredService<ServerLauncher>().LaunchAsync(profile.Id, cancel.Token));

        var server = Host.Supervisor.Find(profile.Id).ShouldNotBeNull();
        server.State.ShouldBe(ServerState.Failed);
        server.Detail.ShouldBe("The start was cancelled before the engine was launched.");
        server.Process.ShouldBeNull();
        (await Host.Supervisor.StartServerAsync(profile.Id, CancellationToken.None)).Succeeded.ShouldBeTrue("nothing is left half-started");
        await Host.Supervisor.StopServerAsync(profile.Id, CancellationToken.None);
    }
}
