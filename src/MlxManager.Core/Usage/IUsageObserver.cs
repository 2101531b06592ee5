namespace MlxManager.Core.Usage;

/// <summary>
/// Told of every ledger row as it is recorded (before it is written), so counters such as metrics and quotas follow
/// usage without reading the database. Every registered implementation is called, on the request's thread: keep it
/// short, thread-safe and non-blocking. An exception is logged and does not stop the others or the row.
/// </summary>
public interface IUsageObserver
{
    void OnRecorded(UsageRecord row);
}
