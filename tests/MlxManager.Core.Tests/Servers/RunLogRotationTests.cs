using System.Text;
using MlxManager.Core.Servers;
using MlxManager.Core.Servers.Processes;
using MlxManager.Core.Tests.Library;
using MlxManager.Core.Tests.Servers.Infrastructure;

namespace MlxManager.Core.Tests.Servers;

/// <summary>Run logs rotated by size while a real engine process keeps writing into its output file.</summary>
public sealed class RunLogRotationTests : IDisposable
{
    private const long Limit = 4096;
    private readonly TemporaryDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Output => _folder.Combine("1.out");

    private string LogFile => _folder.Combine("1.log");

    [LinuxFact]
    public async Task PastTheLimit_TheLogRotates_AndTheEngineKeepsWritingIntoTheEmptiedOutput()
    {
        using var log = RunLog.Create(Output, LogFile, TimeProvider.System, Limit);
        // 100 lines of 80 characters (twice the limit), then it waits for "next" and writes one more line.
        var pid = PosixProcesses.Spawn(new DetachedLaunch(
            "/bin/sh",
            ["-c", "i=0; while [ $i -lt 100 ]; do printf 'line %03d %s\\n' $i " + new string('x', 70) + "; i=$((i+1)); done; touch wrote; "
                   + "while [ ! -e next ]; do sleep 0.02; done; echo 'after the rotation'"],
            new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" },
            _folder.Path,
            Output));
        await EngineProcesses.WaitUntilAsync(() => File.Exists(_folder.Combine("wrote")), TimeSpan.FromSeconds(10), "the engine wrote its lines");

        var first = log.ReadNewOutput();
        await File.WriteAllTextAsync(_folder.Combine("next"), "");
        await EngineProcesses.WaitUntilAsync(() => PosixProcesses.TryReap(pid, out _) is not null, TimeSpan.FromSeconds(10), "the engine ended");
        var after = log.ReadNewOutput();

        first.Count(l => !l.FromManager).ShouldBe(100);
        first[^1].Text.ShouldContain("the lines before this one are in 1.log.1");
        after.Select(l => l.Text).ShouldBe(["after the rotation"]);
        (await File.ReadAllBytesAsync(Output)).ShouldBe(Encoding.ASCII.GetBytes("after the rotation\n"),
            "the engine's descriptor writes at the emptied file's start (O_APPEND), leaving no hole");
        var rotated = await File.ReadAllLinesAsync(RunLog.RotatedPath(LogFile));
        rotated.Count(l => l.Contains(" | line ", StringComparison.Ordinal)).ShouldBe(100);
        var current = await File.ReadAllLinesAsync(LogFile);
        current.Length.ShouldBe(2);
        current[1].ShouldEndWith(" | after the rotation");
        log.After(0, 1000).Lines.Select(l => l.Sequence).ShouldBe(Enumerable.Range(1, 102).Select(i => (long)i), "line numbers carry on");
    }

    [Fact]
    public async Task TheWholeLog_ReadsTheRotatedPartThenTheLog()
    {
        using (var log = await FilledPastTheLimitAsync())
        {
            await File.AppendAllTextAsync(Output, "late\n");
            log.ReadNewOutput();
        }

        RunLog.FilesOf(LogFile).ShouldBe([RunLog.RotatedPath(LogFile), LogFile]);
        using var reader = new StreamReader(new RunLogReader(RunLog.FilesOf(LogFile)));
        var lines = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        lines.Count(l => l.Contains(" | early ", StringComparison.Ordinal)).ShouldBe(100);
        lines[0].ShouldContain(" | early 0 ");
        lines[^1].ShouldEndWith(" | late");
        RunLog.FilesOf(_folder.Combine("never-rotated.log")).ShouldBe([_folder.Combine("never-rotated.log")]);
    }

    [Fact]
    public async Task Resume_AfterARotation_HandsOutOnlyWhatNoManagerRead()
    {
        using (var log = await FilledPastTheLimitAsync())
        {
            await File.AppendAllTextAsync(Output, "read 1\nread 2\n");
            log.ReadNewOutput();
        }

        await File.AppendAllTextAsync(Output, "while away 1\nwhile away 2\n");
        using var resumed = RunLog.Resume(Output, LogFile, TimeProvider.System, Limit);

        resumed.PendingBacklog.ShouldBe(2);
        resumed.ReadNewOutput().Select(l => l.Text).ShouldBe(["while away 1", "while away 2"]);
    }

    /// <summary>A log whose engine wrote 100 lines "early N yyy…" (about twice the limit), read once: so rotated once.</summary>
    private async Task<RunLog> FilledPastTheLimitAsync()
    {
        var log = RunLog.Create(Output, LogFile, TimeProvider.System, Limit);
        await File.AppendAllTextAsync(Output, string.Concat(Enumerable.Range(0, 100).Select(i => $"early {i} {new string('y', 60)}\n")));
        log.ReadNewOutput();
        return log;
    }
}
