using MlxManager.Core.Engines;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Core.Tests.Servers.Infrastructure;

/// <summary>Runs and profiles for tests of the supervisor's parts, without a launch.</summary>
internal static class TestRuns
{
    /// <summary>A run of <paramref name="profile"/> as the supervisor keeps it, not yet launched (state starting).</summary>
    public static SupervisedRun New(Profile profile, long runId, string logPath = "unused.log", string outputPath = "unused.out") =>
        new(runId, profile, new MlxLmServer(), new ResolvedModel(profile.ModelRef), DateTimeOffset.UtcNow, logPath, outputPath);

    /// <summary>A profile that exists only in memory (no row), for parts that never read it from the database.</summary>
    public static Profile MemoryProfile(int id, int port) =>
        new() { Id = id, Name = "p" + id, Engine = MlxLmServer.EngineKey, ModelRef = "org/model", Host = "127.0.0.1", Port = port };

    /// <summary>A run with its log open in a new folder under <paramref name="root"/>, of an in-memory profile on <paramref name="port"/>.</summary>
    public static SupervisedRun WithLog(string root, int port = 1)
    {
        var folder = Directory.CreateDirectory(Path.Combine(root, "run-" + Guid.NewGuid().ToString("N"))).FullName;
        var profile = MemoryProfile(Random.Shared.Next(100_000, 200_000), port);
        var run = New(profile, profile.Id, Path.Combine(folder, "run.log"), Path.Combine(folder, "run.out"));
        run.Log = RunLog.Create(run.OutputPath, run.LogPath, TimeProvider.System);
        return run;
    }
}
