using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Usage;

/// <summary>
/// Where requests record their usage. <see cref="Record"/> never waits: it tells the <see cref="IUsageObserver"/>s and
/// puts the row in a bounded in-memory queue that <see cref="UsageLedgerWriter"/> writes in batches, off the request
/// path. Should the writer fall <see cref="Capacity"/> rows behind, further rows are counted in <see cref="Dropped"/>
/// and logged rather than slowing requests down.
/// </summary>
public sealed partial class UsageLedger(IEnumerable<IUsageObserver> observers, ILogger<UsageLedger> logger)
{
    /// <summary>Rows waiting to be written at most.</summary>
    public const int Capacity = 100_000;

    public const int MaxErrorLength = 1000;

    private readonly IUsageObserver[] _observers = [.. observers];
    private readonly Channel<UsageRecord> _queue = Channel.CreateBounded<UsageRecord>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private long _dropped;

    /// <summary>Rows lost because the writer was <see cref="Capacity"/> rows behind (since start).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Rows recorded and not yet taken by the writer.</summary>
    public int Pending => _queue.Reader.Count;

    internal ChannelReader<UsageRecord> Queue => _queue.Reader;

    /// <summary>Records <paramref name="row"/>: observers first, then the queue to the database. Never blocks.</summary>
    public void Record(UsageRecord row)
    {
        if (row.Error is { Length: > MaxErrorLength } error)
        {
            row.Error = error[..MaxErrorLength];
        }

        foreach (var observer in _observers)
        {
            try
            {
                observer.OnRecorded(row);
            }
            catch (Exception exception)
            {
                LogObserverFailed(exception, observer.GetType().Name);
            }
        }

        if (!_queue.Writer.TryWrite(row))
        {
            Interlocked.Increment(ref _dropped);
            LogDropped(row.UserId, row.Model);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Usage observer {Observer} failed")]
    private partial void LogObserverFailed(Exception exception, string observer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The usage ledger's writer is behind; a row of {UserId} for {Model} was not recorded")]
    private partial void LogDropped(string userId, string model);
}
