using System.Diagnostics;
using Microsoft.Data.Sqlite;
using MlxManager.Core.Servers.Processes;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Servers.Infrastructure;
using Xunit.Abstractions;

namespace MlxManager.Web.Tests.Servers;

/// <summary>
/// The manager as a real process: what a terminal's Ctrl-C or a kill -9 does to it must not reach its engines, and
/// the next manager on the same data folder takes them over.
/// </summary>
public sealed class ManagerProcessTests(ITestOutputHelper output)
{
    [LinuxFact("/usr/bin/setsid")]
    public async Task ManagerInterruptedOrKilled_ItsServerKeepsRunning_AndTheNextManagerReattaches()
    {
        using var folder = new TestDataFolder();
        int profileId;
        await using (var seed = MlxManagerFactory.OnFolder(folder))
        {
            EngineWorld.Instance.Configure(seed);
            seed.CreateClient().Dispose(); // starts the host: database and migrations
            profileId = (await SeedProfiles.AddAsync(seed, "Survivor", FixtureCatalog.QwenThinking.RepoId, configure: p => p.AutoStart = true)).Id;
        }

        var managers = new List<Process>();
        int? enginePid = null;
        try
        {
            // 1. A manager started from a "terminal" (its own session) auto-starts the server.
            var first = StartManager(folder, managers);
            var run = await WaitForRunAsync(folder, profileId, "Ready", first);
            enginePid = run.Pid;
            output.WriteLine($"manager {first.Id}, engine {run.Pid}, run {run.Id}");

            // 2. Ctrl-C in that terminal: SIGINT to the manager's whole process group. The manager shuts down; the
            //    engine, in a session of its own, neither sees the signal nor dies with the manager.
            PosixProcesses.SignalGroup(first.Id, 2).ShouldBeTrue();
            (await WaitForExitAsync(first)).ShouldBeTrue("the manager stops on Ctrl-C");
            IsAlive(run.Pid).ShouldBeTrue("the server outlives the manager's Ctrl-C");

            // 3. The next manager re-attaches to the same process, which is ready again; then it is killed with -9.
            var second = StartManager(folder, managers);
            await WaitForOutputAsync(second, $"Re-attached to the server of Survivor (pid {run.Pid}");
            var again = await WaitForRunAsync(folder, profileId, "Ready", second);
            again.Id.ShouldBe(run.Id);
            again.Pid.ShouldBe(run.Pid);
            second.Kill();
            (await WaitForExitAsync(second)).ShouldBeTrue();
            IsAlive(run.Pid).ShouldBeTrue("the server outlives a killed manager");

            // 4. A third manager, set to stop servers on exit, re-attaches and stops it when asked to end.
            var third = StartManager(folder, managers, stopServersOnExit: true);
            await WaitForOutputAsync(third, $"Re-attached to the server of Survivor (pid {run.Pid}");
            await WaitForRunAsync(folder, profileId, "Ready", third);
            await WaitForOutputAsync(third, "Application started.");
            PosixProcesses.Signal(third.Id, PosixProcesses.SigTerm).ShouldBeTrue();
            (await WaitForExitAsync(third)).ShouldBeTrue();
            (await WaitForRunAsync(folder, profileId, "Stopped", null, OutputOf(third))).Id.ShouldBe(run.Id);
            IsAlive(run.Pid).ShouldBeFalse("a manager told to stop its servers on exit does so");
            var log = await File.ReadAllTextAsync(Path.Combine(folder.Path, "logs", "servers", profileId.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{run.Id}.log"));
            log.ShouldContain("Re-attached after a manager restart to pid");
        }
        finally
        {
            foreach (var manager in managers.Where(m => !m.HasExited))
            {
                manager.Kill(entireProcessTree: true);
            }

            if (enginePid is { } pid && IsAlive(pid))
            {
                PosixProcesses.SignalGroup(pid, PosixProcesses.SigKill);
            }

            managers.ForEach(m => m.Dispose());
        }
    }

    private Process StartManager(TestDataFolder folder, List<Process> managers, bool stopServersOnExit = false)
    {
        var web = Path.Combine(AppContext.BaseDirectory, "MlxManager.Web.dll");
        var start = new ProcessStartInfo("/usr/bin/setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in new[] { Environment.ProcessPath!, web, "--data", folder.Path, "--urls", $"http://127.0.0.1:{SeedProfiles.FreePort()}" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["MlxManager__HuggingFace__HubCache"] = EngineWorld.Instance.HubCache;
        start.Environment["MlxManager__Engines__mlx_lm.server__Path"] = Path.Combine(EngineWorld.Instance.Launchers, "mlx_lm.server");
        start.Environment["MlxManager__Servers__StopServersOnExit"] = stopServersOnExit ? "true" : "false";
        start.Environment["MlxManager__Servers__StopGracePeriod"] = "00:00:05";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        var process = new Process { StartInfo = start };
        var lines = new List<string>();
        Outputs[process] = lines;
        process.OutputDataReceived += (_, e) => Record(lines, e.Data);
        process.ErrorDataReceived += (_, e) => Record(lines, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        managers.Add(process);
        return process;
    }

    private readonly Dictionary<Process, List<string>> Outputs = [];

    private static void Record(List<string> lines, string? line)
    {
        if (line is not null)
        {
            lock (lines)
            {
                lines.Add(line);
            }
        }
    }

    private string OutputOf(Process process)
    {
        var lines = Outputs[process];
        lock (lines)
        {
            return string.Join('\n', lines);
        }
    }

    private async Task WaitForOutputAsync(Process manager, string text)
    {
        // Stops early when the manager has exited; either way the failure shows the manager's output as it is then.
        var wrote = () => OutputOf(manager).Contains(text, StringComparison.Ordinal);
        try
        {
            await Eventually.WaitUntilAsync(() => manager.HasExited || wrote(), TimeSpan.FromSeconds(60), $"the manager writes \"{text}\"");
        }
        catch (TimeoutException)
        {
        }

        if (!wrote())
        {
            throw new TimeoutException($"The manager never wrote \"{text}\":\n{OutputOf(manager)}");
        }
    }

    private async Task<RunRow> WaitForRunAsync(TestDataFolder folder, int profileId, string state, Process? manager, string? context = null)
    {
        RunRow? row = null;
        try
        {
            row = await Eventually.ValueAsync(
                () => ReadLatestRun(folder, profileId),
                latest => latest?.State == state || manager is { HasExited: true },
                TimeSpan.FromSeconds(manager is null ? 10 : 90), $"the run becomes {state}");
        }
        catch (TimeoutException)
        {
            row = ReadLatestRun(folder, profileId);
        }

        return row?.State == state
            ? row
            : throw new TimeoutException($"Run never became {state} (last: {row}).\n{(manager is null ? context : OutputOf(manager))}");
    }

    private static RunRow? ReadLatestRun(TestDataFolder folder, int profileId)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder.Path, "app.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT Id, State, Pid FROM ServerRuns WHERE ProfileId = $profile ORDER BY Id DESC LIMIT 1";
        command.Parameters.AddWithValue("$profile", profileId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new RunRow(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? 0 : reader.GetInt32(2)) : null;
    }

    private static async Task<bool> WaitForExitAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private sealed record RunRow(long Id, string State, int Pid);
}
