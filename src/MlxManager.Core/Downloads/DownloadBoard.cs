using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Data;

namespace MlxManager.Core.Downloads;

/// <summary>
/// The in-process broadcaster of download progress: holds the current <see cref="DownloadBoardState"/> (read from the
/// records, so it is the same after a reload or a restart) and hands every change to the pages watching it (SSE).
/// Jobs and actions call <see cref="Notify"/>; the board re-reads the records at once, and every second while a
/// download is active (which also catches downloads run by another process), coalescing bursts: a slow watcher
/// gets the latest state, never a backlog.
/// </summary>
public sealed partial class DownloadBoard : BackgroundService
{
    private static readonly TimeSpan ActivePoll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(15);

    private readonly IServiceScopeFactory _scopes;
    private readonly int _maxConcurrent;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly List<Channel<DownloadBoardState>> _watchers = [];
    private readonly Channel<bool> _dirty = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private DownloadBoardState _current = DownloadBoardState.Empty;
    private bool _loaded;

    public DownloadBoard(IServiceScopeFactory scopes, IOptions<DownloadOptions> options, TimeProvider timeProvider, ILogger<DownloadBoard> logger)
    {
        _scopes = scopes;
        _maxConcurrent = Math.Max(1, options.Value.MaxConcurrent);
        _time = timeProvider;
        _logger = logger;
    }

    /// <summary>The last state read (empty until the first read; see <see cref="GetAsync"/>).</summary>
    public DownloadBoardState Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>Something changed: re-read the records soon and tell the watchers.</summary>
    public void Notify() => _dirty.Writer.TryWrite(true);

    /// <summary>The current state, read from the records if it was never read.</summary>
    public async Task<DownloadBoardState> GetAsync(CancellationToken cancellationToken = default)
    {
        bool loaded;
        lock (_gate)
        {
            loaded = _loaded;
        }

        return loaded ? Current : await RefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the records now, tells the watchers if anything changed, and returns the state.</summary>
    public async Task<DownloadBoardState> RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (downloads, stamp) = await ReadAsync(cancellationToken).ConfigureAwait(false);
            List<Channel<DownloadBoardState>> watchers;
            DownloadBoardState state;
            lock (_gate)
            {
                var candidate = new DownloadBoardState(_current.Version + 1, downloads, stamp);
                _loaded = true;
                if (candidate.SameContentAs(_current) && _current.Version > 0)
                {
                    return _current;
                }

                _current = state = candidate;
                watchers = [.. _watchers];
            }

            foreach (var watcher in watchers)
            {
                watcher.Writer.TryWrite(state);
            }

            return state;
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>The current state, then every change; ends (without an exception) when <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<DownloadBoardState> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<DownloadBoardState>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_gate)
        {
            _watchers.Add(channel);
        }

        try
        {
            yield return await GetAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                bool more;
                try
                {
                    more = await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // The watcher left (page closed, app stopping): end the sequence quietly.
                    more = false;
                }

                if (!more)
                {
                    yield break;
                }

                while (channel.Reader.TryRead(out var state))
                {
                    yield return state;
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _watchers.Remove(channel);
            }
        }
    }

    /// <summary>Pages watching right now.</summary>
    public int WatcherCount
    {
        get
        {
            lock (_gate)
            {
                return _watchers.Count;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var state = await RefreshAsync(stoppingToken).ConfigureAwait(false);
                var poll = state.Downloads.Any(d => d.IsActive) ? ActivePoll : IdlePoll;
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var signal = _dirty.Reader.WaitToReadAsync(wait.Token).AsTask();
                var timer = Task.Delay(poll, _time, wait.Token);
                await Task.WhenAny(signal, timer).ConfigureAwait(false);
                stoppingToken.ThrowIfCancellationRequested();

                // The loser of the two waits ends cancelled; nobody awaits it.
                await wait.CancelAsync().ConfigureAwait(false);
                _dirty.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception) when (exception is DbUpdateException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
            {
                LogReadFailed(_logger, exception);
                await Task.Delay(ActivePoll, _time, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<(IReadOnlyList<DownloadView> Downloads, string Stamp)> ReadAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var open = await db.Downloads.AsNoTracking()
            .Where(d => d.State != DownloadState.Completed && !d.Dismissed)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        var finished = await db.Downloads.AsNoTracking()
            .Where(d => d.FinishedAtUtc != null)
            .GroupBy(_ => 1)
            .Select(g => new { Count = g.Count(), Last = g.Max(d => d.FinishedAtUtc) })
            .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        var stamp = finished is null ? "0" : $"{finished.Count}:{finished.Last?.Ticks}";
        return (Order(open, _maxConcurrent), stamp);
    }

    /// <summary>
    /// Running first, then the queue in its order, then paused, then failed and cancelled (newest first). The queue's
    /// order is the order the downloads were queued in, which is the order of their jobs in Hangfire's queue (FIFO):
    /// the first ones a free download worker takes are "starting", the others have their place in line.
    /// </summary>
    internal static IReadOnlyList<DownloadView> Order(IEnumerable<Download> open, int maxConcurrent)
    {
        var list = open.ToList();
        var free = maxConcurrent - list.Count(d => d.State is DownloadState.Downloading or DownloadState.Verifying);
        var queued = list.Where(d => d.State == DownloadState.Queued)
            .OrderBy(d => d.QueuedAtUtc).ThenBy(d => d.Id)
            .Select((d, index) => (d.Id, Position: index + 1 - Math.Max(0, free)))
            .ToDictionary(p => p.Id, p => p.Position);
        static int Rank(Download d) => d.State switch
        {
            DownloadState.Downloading or DownloadState.Verifying => 0,
            DownloadState.Queued => 1,
            DownloadState.Paused => 2,
            _ => 3,
        };
        return list
            .OrderBy(Rank)
            .ThenBy(d => Rank(d) == 3 ? -(d.FinishedAtUtc ?? d.UpdatedAtUtc).Ticks : d.QueuedAtUtc.Ticks)
            .ThenBy(d => d.Id)
            .Select(d => queued.TryGetValue(d.Id, out var position)
                ? DownloadView.From(d, position > 0 ? position : null, starting: position <= 0)
                : DownloadView.From(d, null))
            .ToList();
    }

    public override void Dispose()
    {
        _refreshing.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the download records; trying again")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);
}
