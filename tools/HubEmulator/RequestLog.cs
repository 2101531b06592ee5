namespace MlxManager.HubEmulator;

/// <summary>Which listener answered a request.</summary>
public static class Listeners
{
    public const string Hub = "hub";
    public const string Cdn = "cdn";
}

/// <summary>One answered request, recorded just before the last byte of its body is written (or when the response
/// ends, for a response without a body or one cut short): a client that has read a whole response finds it here.</summary>
/// <param name="Sequence">1-based arrival order.</param>
/// <param name="Listener"><see cref="Listeners.Hub"/> or <see cref="Listeners.Cdn"/>.</param>
/// <param name="Path">The request path, without the query.</param>
/// <param name="Query">The query string including <c>?</c>, or empty.</param>
/// <param name="Range">The <c>Range</c> request header, if any.</param>
/// <param name="HadAuthorization">Whether the request carried an <c>Authorization</c> header.</param>
/// <param name="BytesSent">Body bytes written to the client.</param>
/// <param name="Aborted">The connection was dropped before the body was complete (an injected cut or the client going away).</param>
/// <param name="Fault">The injected fault that shaped this response (<c>status</c>, <c>cut</c>, <c>corrupt</c>, <c>delay</c>), or null.</param>
public sealed record RecordedRequest(
    long Sequence,
    DateTimeOffset Time,
    string Listener,
    string Method,
    string Path,
    string Query,
    string? Range,
    bool HadAuthorization,
    int Status,
    long BytesSent,
    bool Aborted,
    string? Fault,
    double DurationMs);

/// <summary>The emulator's memory of what it answered, for assertions such as "resumed from byte N" or "one search
/// request, no N+1". Control requests (<c>/_emulator/…</c>) are not recorded.</summary>
public sealed class RequestLog
{
    readonly Lock gate = new();
    readonly LinkedList<RecordedRequest> entries = new();
    readonly int capacity;
    long sequence;
    TaskCompletionSource changed = NewSignal();

    internal RequestLog(int capacity) => this.capacity = Math.Max(1, capacity);

    /// <summary>Every recorded request, oldest first.</summary>
    public IReadOnlyList<RecordedRequest> Entries
    {
        get { lock (gate) return [.. entries]; }
    }

    /// <summary>Forgets every recorded request.</summary>
    public void Clear()
    {
        lock (gate) entries.Clear();
    }

    /// <summary>Waits until a recorded request matches <paramref name="predicate"/> and returns it: for requests a
    /// background job makes, or a response the client abandoned (recorded when the server notices).</summary>
    public Task<RecordedRequest> WaitForAsync(Func<RecordedRequest, bool> predicate, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitUntilAsync(list => list.FirstOrDefault(predicate), timeout, cancellationToken);

    /// <summary>Waits until at least <paramref name="count"/> recorded requests match <paramref name="predicate"/>, then returns them.</summary>
    public Task<IReadOnlyList<RecordedRequest>> WaitForCountAsync(Func<RecordedRequest, bool> predicate, int count, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitUntilAsync(list =>
        {
            var matching = list.Where(predicate).ToList();
            return matching.Count >= count ? (IReadOnlyList<RecordedRequest>)matching : null;
        }, timeout, cancellationToken);

    async Task<T> WaitUntilAsync<T>(Func<List<RecordedRequest>, T?> probe, TimeSpan? timeout, CancellationToken cancellationToken) where T : class
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            List<RecordedRequest> snapshot;
            Task signal;
            lock (gate)
            {
                snapshot = [.. entries];
                signal = changed.Task;
            }
            if (probe(snapshot) is { } found) return found;
            try
            {
                await signal.WaitAsync(limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException("No recorded request met the condition; the log holds:\n"
                    + string.Join('\n', snapshot.Select(e => $"  #{e.Sequence} {e.Listener} {e.Method} {e.Path}{e.Query} -> {e.Status} ({e.BytesSent} B)")));
            }
        }
    }

    internal long NextSequence() => Interlocked.Increment(ref sequence);

    internal void Add(RecordedRequest entry)
    {
        TaskCompletionSource toSignal;
        lock (gate)
        {
            // Kept in arrival order even though responses end out of order.
            var node = entries.Last;
            while (node is not null && node.Value.Sequence > entry.Sequence) node = node.Previous;
            if (node is null) entries.AddFirst(entry);
            else entries.AddAfter(node, entry);
            while (entries.Count > capacity) entries.RemoveFirst();
            toSignal = changed;
            changed = NewSignal();
        }
        toSignal.TrySetResult();
    }

    /// <summary>Corrects an entry recorded early (its last write failed or wrote a different count).</summary>
    internal void Replace(RecordedRequest entry)
    {
        TaskCompletionSource toSignal;
        lock (gate)
        {
            var node = entries.Last;
            while (node is not null && node.Value.Sequence != entry.Sequence) node = node.Previous;
            if (node is null) return;
            node.Value = entry;
            toSignal = changed;
            changed = NewSignal();
        }
        toSignal.TrySetResult();
    }

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
