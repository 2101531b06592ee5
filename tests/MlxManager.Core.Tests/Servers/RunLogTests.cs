using System.Text;
using Microsoft.Extensions.Time.Testing;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Library;

namespace MlxManager.Core.Tests.Servers;

public sealed class RunLogTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 14, 2, 3, 123, TimeSpan.Zero));

    public void Dispose() => _folder.Dispose();

    private string Output => _folder.Combine("1.out");

    private string LogFile => _folder.Combine("1.log");

    [Fact]
    public void ReadNewOutput_ReturnsCompleteLinesOnly_AndStampsThemInTheLogFile()
    {
        using var log = RunLog.Create(Output, LogFile, _time);
        File.AppendAllText(Output, "first\nsecond\r\nthird par");

        var lines = log.ReadNewOutput();
        File.AppendAllText(Output, "t\nprogress 1\rprogress 2\r");
        var more = log.ReadNewOutput();

        lines.Select(l => l.Text).ShouldBe(["first", "second"]);
        lines.Select(l => l.Sequence).ShouldBe([1L, 2L]);
        more.Select(l => l.Text).ShouldBe(["third part", "progress 1"]);
        log.FlushPartialLine()!.Text.ShouldBe("progress 2");
        File.ReadAllLines(LogFile).ShouldBe([
            "2026-11-26T14:02:03.123Z | first",
            "2026-11-26T14:02:03.123Z | second",
            "2026-11-26T14:02:03.123Z | third part",
            "2026-11-26T14:02:03.123Z | progress 1",
            "2026-11-26T14:02:03.123Z | progress 2",
        ]);
    }

    [Fact]
    public void Write_AddsManagerLines_ThatTailCanLeaveOut()
    {
        using var log = RunLog.Create(Output, LogFile, _time);
        log.Write("Started pid 42");
        File.AppendAllText(Output, "engine says hi\n");
        log.ReadNewOutput();

        log.Tail(10).Select(l => (l.Text, l.FromManager)).ShouldBe([("Started pid 42", true), ("engine says hi", false)]);
        log.Tail(10, engineOnly: true).Select(l => l.Text).ShouldBe(["engine says hi"]);
        File.ReadAllLines(LogFile)[0].ShouldBe("2026-11-26T14:02:03.123Z * Started pid 42");
    }

    [Fact]
    public void ReadNewOutput_DecodesMultiByteCharactersSplitAcrossReads()
    {
        using var log = RunLog.Create(Output, LogFile, _time);
        var bytes = Encoding.UTF8.GetBytes("✦ ready\n");
        using (var stream = new FileStream(Output, FileMode.Append))
        {
            stream.Write(bytes, 0, 2);
        }

        log.ReadNewOutput().ShouldBeEmpty();
        using (var stream = new FileStream(Output, FileMode.Append))
        {
            stream.Write(bytes, 2, bytes.Length - 2);
        }

        log.ReadNewOutput().Single().Text.ShouldBe("✦ ready");
    }

    [Fact]
    public void After_ReturnsNewerLines_AndCountsWhatFellOutOfMemory()
    {
        using var log = RunLog.Create(Output, LogFile, _time, capacity: 16);
        File.AppendAllText(Output, string.Concat(Enumerable.Range(1, 40).Select(i => $"line {i}\n")));
        log.ReadNewOutput();

        var recent = log.After(35, 100);
        recent.Lines.Select(l => l.Text).ShouldBe(["line 36", "line 37", "line 38", "line 39", "line 40"]);
        recent.Skipped.ShouldBe(0);
        var old = log.After(0, 100);
        old.Lines.Count.ShouldBe(16);
        old.Lines[0].Text.ShouldBe("line 25");
        old.Skipped.ShouldBe(24);
        log.After(40, 100).Lines.ShouldBeEmpty();
        log.After(30, 3).Lines.Select(l => l.Text).ShouldBe(["line 38", "line 39", "line 40"]);
    }

    [Fact]
    public void Resume_SkipsWhatTheLogHolds_AndHandsOutWhatWasWrittenMeanwhile()
    {
        using (var first = RunLog.Create(Output, LogFile, _time))
        {
            File.AppendAllText(Output, "one\ntwo\nthr");
            first.ReadNewOutput();
            first.Write("manager detaches");
        }

        File.AppendAllText(Output, "ee\nfour\n");
        _time.Advance(TimeSpan.FromMinutes(1));
        using var second = RunLog.Resume(Output, LogFile, _time);

        second.PendingBacklog.ShouldBe(2);
        second.Tail(10).Select(l => l.Text).ShouldBe(["one", "two", "manager detaches"]);
        second.Write("re-attached");
        second.ReadNewOutput().Select(l => l.Text).ShouldBe(["three", "four"]);
        var file = File.ReadAllLines(LogFile);
        file.Length.ShouldBe(6);
        file[^3].ShouldEndWith("* re-attached");
        file[^2].ShouldBe("2026-11-26T14:03:03.123Z | three");
        file[^1].ShouldEndWith("| four");
    }

    [Fact]
    public void ReadNewOutput_CutsEndlessLines()
    {
        using var log = RunLog.Create(Output, LogFile, _time);
        File.AppendAllText(Output, new string('x', RunLog.MaxLineLength * 2) + "\n");

        var line = log.ReadNewOutput().Single();

        line.Text.Length.ShouldBeLessThan(RunLog.MaxLineLength + 20);
        line.Text.ShouldEndWith("(line cut)");
    }
}
