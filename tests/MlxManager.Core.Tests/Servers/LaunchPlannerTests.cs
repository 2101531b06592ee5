using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Engines;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;
using MlxManager.ModelFixtures;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers;

[Collection(ServersCollection.Name)]
public sealed class LaunchPlannerTests(EngineWorld world, ITestOutputHelper output) : SupervisorHostTest(world, output)
{
    private LaunchPlanner Planner => Host.Services.GetRequiredService<LaunchPlanner>();

    [Fact]
    public void EngineEnvironment_LeavesOutTheManagersSettings_SetsTheLibrarysCache_AndLetsTheCommandWin()
    {
        Environment.SetEnvironmentVariable("MLXMANAGER_PLANNER_TEST", "private");
        Environment.SetEnvironmentVariable("MlxManager__Planner__Test", "private");
        try
        {
            var environment = Planner.EngineEnvironment(new Dictionary<string, string> { ["HF_HUB_OFFLINE"] = "0", ["EXTRA"] = "yes" });

            environment.ShouldNotContainKey("MLXMANAGER_PLANNER_TEST");
            environment.ShouldNotContainKey("MlxManager__Planner__Test");
            environment["HF_HUB_CACHE"].ShouldBe(World.HubCache);
            environment["HF_HUB_OFFLINE"].ShouldBe("0", "the profile's variables win over the managed ones");
            environment["EXTRA"].ShouldBe("yes");
            environment["PATH"].ShouldBe(Environment.GetEnvironmentVariable("PATH"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("MLXMANAGER_PLANNER_TEST", null);
            Environment.SetEnvironmentVariable("MlxManager__Planner__Test", null);
        }
    }

    [Fact]
    public async Task Plan_OfAValidProfile_LaunchesItsCommand_AndShowsItWithMaskedValues()
    {
        var profile = await Host.AddProfileAsync("planned", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId, "HF_TOKEN=hf_planner_secret");
        var run = TestRuns.New(profile, 999, "/tmp/999.log", "/tmp/999.out");

        var plan = await Planner.PlanAsync(run, CancellationToken.None);

        plan.Problem.ShouldBeNull();
        plan.Launch!.Executable.ShouldBe(World.Launcher(MlxLmServer.EngineKey));
        plan.Launch.Arguments.ShouldContain(profile.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        plan.Launch.Environment["HF_TOKEN"].ShouldBe("hf_planner_secret");
        plan.Launch.OutputPath.ShouldBe(run.OutputPath);
        plan.Launch.WorkingDirectory.ShouldEndWith($"/servers/{profile.Id}/run-{run.RunId}");
        run.Current.CommandLine.ShouldContain("HF_TOKEN=***");
        run.Current.CommandLine.ShouldNotContain("hf_planner_secret");
    }

    [Fact]
    public async Task Plan_OfAnInvalidProfile_IsRefusedWithTheValidationErrors()
    {
        var profile = await Host.AddProfileAsync("invalid", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId, configure: p => p.ContextLength = -5);

        var plan = await Planner.PlanAsync(TestRuns.New(profile, 999, "/tmp/999.log", "/tmp/999.out"), CancellationToken.None);

        plan.Launch.ShouldBeNull();
        plan.Problem.ShouldNotBeNull().ShouldStartWith("The profile is not valid:");
        plan.Problem.ShouldEndWith("Edit the profile first.");
    }
}
