using MlxManager.Core.Downloads;

namespace MlxManager.Core.Tests.Downloads;

public sealed class DownloadBoardTests
{
    private static readonly DateTime T0 = new(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc);

    private static Download Record(int id, string repo, DownloadState state, int queuedMinute, int? finishedMinute = null) => new()
    {
        Id = id,
        RepoId = repo,
        State = state,
        CreatedAtUtc = T0,
        QueuedAtUtc = T0.AddMinutes(queuedMinute),
        UpdatedAtUtc = T0.AddMinutes(queuedMinute),
        FinishedAtUtc = finishedMinute is { } m ? T0.AddMinutes(m) : null,
    };

    [Fact]
    public void Order_RunningFirst_ThenTheQueueWithPositions_ThenPaused_ThenFinishedNewestFirst()
    {
        // Two download workers, one busy: the first queued download takes the free one, the others wait in line.
        var views = DownloadBoard.Order(
        [
            Record(1, "a/failed-old", DownloadState.Failed, 0, finishedMinute: 1),
            Record(2, "a/queued-second", DownloadState.Queued, 6),
            Record(3, "a/paused", DownloadState.Paused, 2),
            Record(4, "a/running", DownloadState.Downloading, 3),
            Record(5, "a/queued-first", DownloadState.Queued, 5),
            Record(6, "a/starting", DownloadState.Queued, 4),
            Record(7, "a/cancelled-new", DownloadState.Cancelled, 1, finishedMinute: 9),
        ], maxConcurrent: 2);

        views.Select(v => v.RepoId).ShouldBe(["a/running", "a/starting", "a/queued-first", "a/queued-second", "a/paused", "a/cancelled-new", "a/failed-old"]);
        views.Single(v => v.RepoId == "a/queued-first").QueuePosition.ShouldBe(1);
        views.Single(v => v.RepoId == "a/queued-second").QueuePosition.ShouldBe(2);
        views.Single(v => v.RepoId == "a/starting").QueuePosition.ShouldBeNull();
        views.Single(v => v.RepoId == "a/starting").StatusText.ShouldBe("Starting…");
        views.Single(v => v.RepoId == "a/queued-second").StatusText.ShouldBe("Queued · #2 in line");
    }

    [Fact]
    public void Order_EveryWorkerBusy_TheWholeQueueWaitsInLine()
    {
        var views = DownloadBoard.Order(
        [
            Record(1, "a/running", DownloadState.Downloading, 0),
            Record(2, "a/verifying", DownloadState.Verifying, 1),
            Record(3, "a/queued", DownloadState.Queued, 2),
        ], maxConcurrent: 2);

        var queued = views.Single(v => v.RepoId == "a/queued");
        (queued.QueuePosition, queued.Starting, queued.StatusText).ShouldBe((1, false, "Queued · #1 in line"));
    }

    [Fact]
    public void View_ActionsFollowTheState()
    {
        var paused = DownloadView.From(Record(1, "a/b", DownloadState.Paused, 0), null);
        var failed = DownloadView.From(Record(2, "a/c", DownloadState.Failed, 0), null);
        var running = DownloadView.From(Record(3, "a/d", DownloadState.Downloading, 0), null) with { StopRequest = DownloadStopRequest.Pause };

        (paused.CanResume, paused.CanCancel, paused.CanRetry).ShouldBe((true, true, false));
        (failed.CanRetry, failed.CanDismiss, failed.CanCancel).ShouldBe((true, true, false));
        (running.CanPause, running.CanCancel, running.StatusText).ShouldBe((false, true, "Pausing…"));
    }
}
