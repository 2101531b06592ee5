using MlxManager.Core.Servers;
using MlxManager.Core.Usage;

namespace MlxManager.Core.Gateway;

/// <summary>Who holds a place in a lane: the account and whether it came through the gateway or the web chat.</summary>
public sealed record LaneUser(string UserId, UsageSource Source);

/// <summary>One request a lane holds now, for the usage page's "in use right now".</summary>
/// <param name="Running">Forwarded (it has a slot); false while it waits for a slot.</param>
/// <param name="Since">When it joined the lane.</param>
public sealed record LaneRequest(int ProfileId, LaneUser? User, bool Running, DateTimeOffset Since);

/// <summary>
/// One lane per profile: at most its "Max concurrent requests" forwarded at once, the rest waiting first come first
/// served up to <see cref="GatewayOptions.MaxQueue"/> (then 429) — interactive requests first: a batch request waits
/// while interactive ones are queued (<see cref="RequestPriority"/>), and a freed slot goes to the first interactive
/// request in line, else to the first batch one. A lane also knows what the idle unloader, admission and the server
/// tiles need: how many requests it holds (waiting or running), when the last one ended, how many its current server
/// answered; and it can be claimed while its server is stopped (<see cref="TryClaim"/>).
/// </summary>
public sealed class GatewayLanes(TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Lane> _lanes = [];

    /// <summary>
    /// Joins <paramref name="profileId"/>'s lane. The returned ticket counts as a request in flight (no idle unload) until
    /// disposed; <see cref="Ticket.WaitForTurnAsync"/> then waits for one of the lane's slots, in line with the requests
    /// of its <paramref name="priority"/>. <paramref name="user"/> says whose request it is, for <see cref="Requests"/>.
    /// </summary>
    public Ticket Join(int profileId, RequestPriority priority = RequestPriority.Interactive, LaneUser? user = null)
    {
        lock (_lock)
        {
            var lane = LaneOf(profileId);
            lane.Holders++;
            var ticket = new Ticket(this, lane, priority, profileId, user, time.GetUtcNow());
            lane.Tickets.Add(ticket);
            return ticket;
        }
    }

    /// <summary>Every request the lanes hold now (waiting or running), oldest first.</summary>
    public IReadOnlyList<LaneRequest> Requests()
    {
        lock (_lock)
        {
            return [.. _lanes.Values.SelectMany(lane => lane.Tickets).Select(t => t.Describe()).OrderBy(r => r.Since)];
        }
    }

    /// <summary>Requests the lane holds now (waiting for a start or a slot, or forwarded).</summary>
    public int InFlight(int profileId)
    {
        lock (_lock)
        {
            return _lanes.TryGetValue(profileId, out var lane) ? lane.Holders : 0;
        }
    }

    /// <summary>When the last request through the lane ended; null when none has (since the manager started).</summary>
    public DateTimeOffset? LastUsed(int profileId)
    {
        lock (_lock)
        {
            return _lanes.TryGetValue(profileId, out var lane) ? lane.LastUsed : null;
        }
    }

    /// <summary>When <paramref name="server"/> was last used: the end of its lane's last request, or when it became ready if later.</summary>
    public DateTimeOffset IdleSince(ServerSnapshot server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var since = server.ReadyAt ?? server.StartedAt;
        return LastUsed(server.ServerId) is { } used && used > since ? used : since;
    }

    /// <summary>Requests forwarded to the run <paramref name="runId"/> of <paramref name="profileId"/>'s server.</summary>
    public int Served(int profileId, long runId)
    {
        lock (_lock)
        {
            return _lanes.TryGetValue(profileId, out var lane) && lane.ServedRun == runId ? lane.Served : 0;
        }
    }

    /// <summary>
    /// Claims an idle lane so that its server can be stopped without a request slipping in between the check and the
    /// stop: null when the lane holds requests (or is claimed already). Requests arriving while it is claimed wait in
    /// <see cref="Ticket.WaitForTurnAsync"/> until the claim is disposed, then go on (and start the server again).
    /// </summary>
    public IDisposable? TryClaim(int profileId)
    {
        lock (_lock)
        {
            var lane = LaneOf(profileId);
            if (lane.Holders > 0 || lane.Claim is not null)
            {
                return null;
            }

            lane.Claim = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return new Claim(this, lane, lane.Claim);
        }
    }

    private Lane LaneOf(int profileId)
    {
        if (!_lanes.TryGetValue(profileId, out var lane))
        {
            _lanes[profileId] = lane = new Lane();
        }

        return lane;
    }

    internal sealed class Lane
    {
        public int Holders;
        public int Running;
        public readonly LinkedList<TaskCompletionSource> Waiting = [];
        public readonly HashSet<Ticket> Tickets = [];
        public readonly LinkedList<TaskCompletionSource> WaitingBatch = [];
        public DateTimeOffset? LastUsed;
        public TaskCompletionSource? Claim;
        public long ServedRun;
        public int Served;

        public int WaitingCount => Waiting.Count + WaitingBatch.Count;

        public LinkedList<TaskCompletionSource> LineOf(RequestPriority priority) => priority == RequestPriority.Batch ? WaitingBatch : Waiting;
    }

    private sealed class Claim(GatewayLanes owner, Lane lane, TaskCompletionSource released) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._lock)
            {
                if (lane.Claim == released)
                {
                    lane.Claim = null;
                }
            }

            released.TrySetResult();
        }
    }

    /// <summary>A request's place in a lane; dispose it when the request ends (however it ends).</summary>
    public sealed class Ticket : IDisposable
    {
        private readonly GatewayLanes _owner;
        private readonly Lane _lane;
        private readonly RequestPriority _priority;
        private readonly int _profileId;
        private readonly LaneUser? _user;
        private readonly DateTimeOffset _since;
        private bool _running;
        private bool _disposed;
        private LinkedListNode<TaskCompletionSource>? _place; // while it waits in line

        internal Ticket(GatewayLanes owner, Lane lane, RequestPriority priority, int profileId, LaneUser? user, DateTimeOffset since)
        {
            _owner = owner;
            _lane = lane;
            _priority = priority;
            _profileId = profileId;
            _user = user;
            _since = since;
        }

        internal LaneRequest Describe() => new(_profileId, _user, _running, _since);

        /// <summary>
        /// Waits for a slot (first, while the lane is claimed, for its server's stop to end): at once when fewer than
        /// <paramref name="maxConcurrent"/> run, else in line. Throws a 429
        /// <see cref="GatewayException"/> when <paramref name="maxQueue"/> already wait; a cancelled wait leaves the line.
        /// </summary>
        public async Task WaitForTurnAsync(string profileName, int maxConcurrent, int maxQueue, CancellationToken cancellationToken)
        {
            while (true)
            {
                Task claimed;
                lock (_owner._lock)
                {
                    if (_lane.Claim is null)
                    {
                        break;
                    }

                    claimed = _lane.Claim.Task;
                }

                await claimed.WaitAsync(cancellationToken).ConfigureAwait(false); // its server is being stopped
            }

            TaskCompletionSource turn;
            LinkedListNode<TaskCompletionSource> place;
            lock (_owner._lock)
            {
                var ahead = _priority == RequestPriority.Batch ? _lane.WaitingCount : _lane.Waiting.Count;
                if (_lane.Running < Math.Max(1, maxConcurrent) && ahead == 0)
                {
                    _lane.Running++;
                    _running = true;
                    return;
                }

                if (_lane.WaitingCount >= maxQueue)
                {
                    throw GatewayException.QueueFull(profileName, _lane.WaitingCount);
                }

                turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                place = _place = _lane.LineOf(_priority).AddLast(turn);
            }

            try
            {
                await turn.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                lock (_owner._lock)
                {
                    _running = true; // the slot was handed over by the request that ended
                    _place = null;
                }
            }
            catch (OperationCanceledException)
            {
                lock (_owner._lock)
                {
                    _place = null;
                    if (place.List is { } line)
                    {
                        line.Remove(place);
                    }
                    else
                    {
                        _running = true; // handed over just as we gave up: pass it on in Dispose
                    }
                }

                throw;
            }
        }

        /// <summary>Counts the request as served by the run <paramref name="runId"/> (the tile's "requests since start").</summary>
        public void Forwarded(long runId)
        {
            lock (_owner._lock)
            {
                if (_lane.ServedRun != runId)
                {
                    _lane.ServedRun = runId;
                    _lane.Served = 0;
                }

                _lane.Served++;
            }
        }

        public void Dispose()
        {
            lock (_owner._lock)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                _lane.Holders--;
                _lane.Tickets.Remove(this);
                _lane.LastUsed = _owner.LastUsedNow();
                if (!_running && _place is { } place)
                {
                    // Disposed while its wait was still pending: leave the line, or pass on a slot handed over meanwhile.
                    _place = null;
                    if (place.List is { } waitingLine)
                    {
                        waitingLine.Remove(place);
                        return;
                    }

                    _running = true;
                }

                if (!_running)
                {
                    return;
                }

                var line = _lane.Waiting.Count > 0 ? _lane.Waiting : _lane.WaitingBatch;
                if (line.First is { } next)
                {
                    line.RemoveFirst();
                    next.Value.SetResult(); // the slot passes to the next in line, interactive first; Running stays the same
                }
                else
                {
                    _lane.Running--;
                }
            }
        }
    }

    private DateTimeOffset LastUsedNow() => time.GetUtcNow();
}
