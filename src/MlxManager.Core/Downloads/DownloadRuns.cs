namespace MlxManager.Core.Downloads;

/// <summary>Why a running download was stopped from outside.</summary>
public enum DownloadStopReason
{
    None,
    Pause,
    Cancel,

    /// <summary>The record's lease was taken over (this run took too long to renew it): another run owns it now.</summary>
    LeaseLost,
}

/// <summary>
/// The downloads running in this process: the in-process half of the per-repository lock (one run per repository
/// at a time, whatever Hangfire does), and the way Pause and Cancel reach a running transfer at once.
/// </summary>
public sealed class DownloadRuns
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Run> _byRepo = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Starts a run for a download, or null when a run for that repository is already going in this process.</summary>
    public Run? TryBegin(int downloadId, string repoId)
    {
        lock (_gate)
        {
            if (_byRepo.ContainsKey(repoId))
            {
                return null;
            }

            var run = new Run(this, downloadId, repoId);
            _byRepo[repoId] = run;
            return run;
        }
    }

    public bool IsRunning(int downloadId)
    {
        lock (_gate)
        {
            return _byRepo.Values.Any(r => r.DownloadId == downloadId);
        }
    }

    /// <summary>Stops the run of <paramref name="downloadId"/> if it runs here; true when it did.</summary>
    public bool Stop(int downloadId, DownloadStopReason reason)
    {
        // Under the lock, so a run that is ending (and disposing its token source) is never stopped half-way.
        lock (_gate)
        {
            var run = _byRepo.Values.FirstOrDefault(r => r.DownloadId == downloadId);
            run?.Stop(reason);
            return run is not null;
        }
    }

    private void End(Run run)
    {
        lock (_gate)
        {
            if (_byRepo.TryGetValue(run.RepoId, out var current) && ReferenceEquals(current, run))
            {
                _byRepo.Remove(run.RepoId);
            }
        }
    }

    /// <summary>One run; dispose it when the run ends.</summary>
    public sealed class Run : IDisposable
    {
        private readonly DownloadRuns _owner;
        private readonly CancellationTokenSource _stop = new();
        private int _reason;

        internal Run(DownloadRuns owner, int downloadId, string repoId)
        {
            _owner = owner;
            DownloadId = downloadId;
            RepoId = repoId;
        }

        public int DownloadId { get; }

        public string RepoId { get; }

        /// <summary>Cancelled when the run is asked to stop.</summary>
        public CancellationToken Stopping => _stop.Token;

        public DownloadStopReason Reason => (DownloadStopReason)Volatile.Read(ref _reason);

        /// <summary>Asks the run to stop; the first reason wins.</summary>
        public void Stop(DownloadStopReason reason)
        {
            if (reason == DownloadStopReason.None || Interlocked.CompareExchange(ref _reason, (int)reason, (int)DownloadStopReason.None) != (int)DownloadStopReason.None)
            {
                return;
            }

            _stop.Cancel();
        }

        public void Dispose()
        {
            _owner.End(this);
            _stop.Dispose();
        }
    }
}
