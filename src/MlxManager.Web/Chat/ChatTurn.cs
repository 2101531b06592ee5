using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;

namespace MlxManager.Web.Chat;

/// <summary>
/// One running (or just finished) answer: the events published so far, replayed to every reader from the start,
/// so a browser that connects late or reconnects misses nothing. Stop cancels it upstream.
/// </summary>
public sealed class ChatTurn
{
    private readonly List<SseItem<string>> _items = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _completed;

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

    internal void Publish(string eventType, string data)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            _items.Add(new SseItem<string>(data, eventType) { EventId = _items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) });
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
        var next = int.TryParse(lastEventId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var last) ? last + 1 : 0;
        var batch = new List<SseItem<string>>();
        while (true)
        {
            Task changed;
            bool completed;
            lock (_gate)
            {
                for (; next < _items.Count; next++)
                {
                    batch.Add(_items[next]);
                }

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
}
