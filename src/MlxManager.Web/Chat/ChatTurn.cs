using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;

namespace MlxManager.Web.Chat;

/// <summary>
/// One running (or just finished) answer: what a reader needs to rebuild it, replayed to every reader from the start,
/// so a browser that connects late or reconnects misses nothing. Only that is kept: an event published as a
/// snapshot of a channel (the whole answer or thinking of a round) drops the channel's earlier events, which it
/// replaces, so the bytes kept follow the answer's size rather than its length in time. Event ids keep growing, so
/// a reader resuming after a dropped event gets the snapshot that replaced it. Stop cancels it upstream.
/// </summary>
public sealed class ChatTurn
{
    private readonly List<Retained> _items = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _completed;
    private long _nextId;
    private long _retainedBytes;
    private long _peakRetainedBytes;

    internal ChatTurn(Guid id, string userId, int conversationId, CancellationToken appStopping)
    {
        Id = id;
        UserId = userId;
        ConversationId = conversationId;
        Cancellation = CancellationTokenSource.CreateLinkedTokenSource(appStopping);
    }

    public Guid Id { get; }

    public string UserId { get; }

    public int ConversationId { get; }

    /// <summary>Cancelled by Stop (and by the app shutting down).</summary>
    internal CancellationTokenSource Cancellation { get; }

    /// <summary>When the turn finished (UTC ticks of the app's clock), or null while it runs.</summary>
    internal DateTimeOffset? CompletedAt { get; private set; }

    /// <summary>True once the last event was published.</summary>
    public bool IsCompleted
    {
        get
        {
            lock (_gate)
            {
                return _completed;
            }
        }
    }

    /// <summary>Asks the turn to stop: the engine request is aborted, the partial answer kept.</summary>
    public void Stop()
    {
        if (!IsCompleted)
        {
            Cancellation.Cancel();
        }
    }

    /// <summary>UTF-8 bytes of the events kept for late readers (what this turn holds in memory for them).</summary>
    public long RetainedBytes
    {
        get
        {
            lock (_gate)
            {
                return _retainedBytes;
            }
        }
    }

    /// <summary>The most <see cref="RetainedBytes"/> ever was during the turn.</summary>
    public long PeakRetainedBytes
    {
        get
        {
            lock (_gate)
            {
                return _peakRetainedBytes;
            }
        }
    }

    /// <summary>
    /// Publishes an event. With a <paramref name="channel"/> and <paramref name="snapshot"/>, it replaces every earlier
    /// event of that channel for later readers; without <paramref name="snapshot"/>, it is kept until the next snapshot.
    /// </summary>
    internal void Publish(string eventType, string data, string? channel = null, bool snapshot = false)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            if (snapshot)
            {
                _items.RemoveAll(item =>
                {
                    var superseded = item.Channel == channel;
                    _retainedBytes -= superseded ? item.Bytes : 0;
                    return superseded;
                });
            }

            var id = _nextId++;
            var bytes = System.Text.Encoding.UTF8.GetByteCount(data);
            _items.Add(new Retained(id, new SseItem<string>(data, eventType) { EventId = id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, channel, bytes));
            _retainedBytes += bytes;
            _peakRetainedBytes = Math.Max(_peakRetainedBytes, _retainedBytes);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    internal void Complete(DateTimeOffset now)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _completed = true;
            CompletedAt = now;
            changed = _changed;
        }

        changed.TrySetResult();
    }

    /// <summary>
    /// Every event after <paramref name="lastEventId"/> (from the first when null), then new ones as they come,
    /// until the turn ends.
    /// </summary>
    public async IAsyncEnumerable<SseItem<string>> ReadAllAsync(string? lastEventId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = long.TryParse(lastEventId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var last) ? last + 1 : 0;
        var batch = new List<SseItem<string>>();
        while (true)
        {
            Task changed;
            bool completed;
            lock (_gate)
            {
                foreach (var item in _items.Skip(FirstAtOrAfter(next)))
                {
                    batch.Add(item.Item);
                }

                next = _nextId;

                completed = _completed;
                changed = _changed.Task;
            }

            foreach (var item in batch)
            {
                yield return item;
            }

            batch.Clear();
            if (completed)
            {
                yield break;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Index of the first kept event whose id is at least <paramref name="id"/> (ids grow along the list).</summary>
    private int FirstAtOrAfter(long id)
    {
        int low = 0, high = _items.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (_items[middle].Id < id)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private sealed record Retained(long Id, SseItem<string> Item, string? Channel, int Bytes);
}
