namespace MlxManager.Core.Servers;

/// <summary>
/// The current (or last) run of each server, by server id (= profile id), and the one way to change a run:
/// <see cref="Change"/> applies the change, stamps the new snapshot with the next version and raises
/// <see cref="ServerEvents.Changed"/> (and <see cref="LogAdvanced"/> raises <see cref="ServerEvents.LogAdvanced"/>).
/// </summary>
internal sealed class CurrentRuns(ServerEvents events)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, SupervisedRun> _runs = [];

    public SupervisedRun? Get(int serverId)
    {
        lock (_lock)
        {
            return _runs.GetValueOrDefault(serverId);
        }
    }

    public IReadOnlyList<SupervisedRun> All()
    {
        lock (_lock)
        {
            return [.. _runs.Values];
        }
    }

    /// <summary>The active run whose engine process is <paramref name="pid"/>, if any (to name who holds a port).</summary>
    public SupervisedRun? FindActiveByPid(int pid)
    {
        lock (_lock)
        {
            return _runs.Values.FirstOrDefault(r => r.Process?.Pid == pid && r.State.IsActive());
        }
    }

    /// <summary>Makes <paramref name="run"/> its server's current run; returns the run it replaced (whose log the caller closes).</summary>
    public SupervisedRun? Replace(SupervisedRun run)
    {
        lock (_lock)
        {
            _runs.TryGetValue(run.ServerId, out var previous);
            _runs[run.ServerId] = run;
            return previous;
        }
    }

    /// <summary>Forgets a server whose run has ended; false when it is active (or unknown). Observers see its last snapshot once more.</summary>
    public bool RemoveEnded(int serverId)
    {
        SupervisedRun? removed = null;
        lock (_lock)
        {
            if (_runs.TryGetValue(serverId, out var run) && !run.State.IsActive())
            {
                _runs.Remove(serverId);
                removed = run;
            }
        }

        if (removed is null)
        {
            return false;
        }

        events.NextVersion();
        events.RaiseChanged(removed.Current);
        return true;
    }

    public void Change(SupervisedRun run, Action<SupervisedRun.Mutable> change) =>
        events.RaiseChanged(run.Change(events.NextVersion(), change));

    /// <summary>Tells observers that lines up to <paramref name="sequence"/> of the server's log were read.</summary>
    public void LogAdvanced(int serverId, long sequence) => events.RaiseLogAdvanced(serverId, sequence);
}
