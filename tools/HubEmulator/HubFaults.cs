namespace MlxManager.HubEmulator;

/// <summary>The faults the emulator injects, as one JSON-friendly value: what <c>POST /_emulator/faults</c> takes
/// and <c>GET /_emulator/faults</c> returns (camelCase). Counted faults show what is left of them.</summary>
public sealed record FaultSettings
{
    /// <summary>Cap on the bytes per second of all file bodies together (Hub and CDN), or null for full speed.</summary>
    public long? ThrottleBytesPerSecond { get; init; }

    /// <summary>Cap on the bytes per second of each file response on its own, or null.</summary>
    public long? ThrottlePerConnectionBytesPerSecond { get; init; }

    /// <summary>Connections to cut in the middle of a file body.</summary>
    public IReadOnlyList<ConnectionCut> Cuts { get; init; } = [];

    /// <summary>Error statuses to answer instead of the real response.</summary>
    public IReadOnlyList<StatusFailure> Failures { get; init; } = [];

    /// <summary>Files to serve with flipped bytes (same length).</summary>
    public IReadOnlyList<Corruption> Corruptions { get; init; } = [];

    /// <summary>Delays before the first byte (the status line) of matching responses.</summary>
    public IReadOnlyList<FirstByteDelay> Delays { get; init; } = [];

    /// <summary>Answer ranged file requests with the whole file (200), as some servers and proxies do.</summary>
    public bool IgnoreRange { get; init; }

    /// <summary>No faults at all.</summary>
    public static FaultSettings None { get; } = new();
}

/// <summary>Send <see cref="AfterBytes"/> bytes of the body of a response for <see cref="File"/>, then drop the
/// connection, <see cref="Times"/> times. Applies wherever the bytes are served (the Hub for small files, the CDN
/// for LFS files) and only to responses longer than <see cref="AfterBytes"/>.</summary>
public sealed record ConnectionCut
{
    /// <summary>Path of the file inside the repo, e.g. <c>model.safetensors</c>.</summary>
    public required string File { get; init; }
    /// <summary>Repo id to restrict the fault to, or null for any repo.</summary>
    public string? Repo { get; init; }
    /// <summary>Body bytes of the response sent before the cut.</summary>
    public required long AfterBytes { get; init; }
    public int Times { get; init; } = 1;
}

/// <summary>Answer <see cref="Status"/> to the next <see cref="Count"/> requests whose path starts with
/// <see cref="PathPrefix"/> (any request when null). A 429 carries <c>Retry-After</c>.</summary>
public sealed record StatusFailure
{
    public int Status { get; init; } = 500;
    public int Count { get; init; } = 1;
    public string? PathPrefix { get; init; }
    /// <summary>Value of <c>Retry-After</c> in seconds; defaults to 1 for 429 and 503.</summary>
    public int? RetryAfterSeconds { get; init; }
}

/// <summary>Flip <see cref="Length"/> bytes at file offset <see cref="Offset"/> of <see cref="File"/> in the next
/// <see cref="Times"/> responses whose range covers that offset. The length stays right; only a hash check notices.</summary>
public sealed record Corruption
{
    public required string File { get; init; }
    public string? Repo { get; init; }
    public long Offset { get; init; }
    public int Length { get; init; } = 16;
    public int Times { get; init; } = 1;
}

/// <summary>Wait <see cref="Milliseconds"/> before answering requests whose path starts with <see cref="PathPrefix"/>
/// (any when null); <see cref="Count"/> limits how many (unlimited when null).</summary>
public sealed record FirstByteDelay
{
    public int Milliseconds { get; init; }
    public string? PathPrefix { get; init; }
    public int? Count { get; init; }
}

/// <summary>The live fault state of a running emulator: set it from tests in-process or through
/// <c>/_emulator/faults</c>. Thread-safe; counted faults are consumed as requests hit them.</summary>
public sealed class HubFaults
{
    readonly Lock gate = new();
    FaultSettings current;

    internal HubFaults(FaultSettings? initial) => current = initial ?? FaultSettings.None;

    /// <summary>A snapshot of the faults still armed.</summary>
    public FaultSettings Current { get { lock (gate) return current; } }

    /// <summary>Replaces every fault.</summary>
    public void Set(FaultSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        lock (gate) current = settings;
    }

    /// <summary>Removes every fault.</summary>
    public void Reset() => Set(FaultSettings.None);

    /// <summary>Caps the speed of file bodies: <paramref name="bytesPerSecond"/> for all together,
    /// <paramref name="perConnectionBytesPerSecond"/> for each response. Null lifts a cap.</summary>
    public void Throttle(long? bytesPerSecond, long? perConnectionBytesPerSecond = null) =>
        Update(c => c with { ThrottleBytesPerSecond = bytesPerSecond, ThrottlePerConnectionBytesPerSecond = perConnectionBytesPerSecond });

    /// <summary>Cuts the connection after <paramref name="afterBytes"/> body bytes of <paramref name="file"/>, <paramref name="times"/> times.</summary>
    public void CutConnection(string file, long afterBytes, string? repo = null, int times = 1) =>
        Update(c => c with { Cuts = [.. c.Cuts, new ConnectionCut { File = file, AfterBytes = afterBytes, Repo = repo, Times = times }] });

    /// <summary>Answers <paramref name="status"/> to the next <paramref name="count"/> requests (matching <paramref name="pathPrefix"/>).</summary>
    public void FailNext(int count, int status = 500, string? pathPrefix = null, int? retryAfterSeconds = null) =>
        Update(c => c with { Failures = [.. c.Failures, new StatusFailure { Count = count, Status = status, PathPrefix = pathPrefix, RetryAfterSeconds = retryAfterSeconds }] });

    /// <summary>Serves <paramref name="file"/> with <paramref name="length"/> flipped bytes at <paramref name="offset"/>, <paramref name="times"/> times.</summary>
    public void Corrupt(string file, long offset, int length = 16, string? repo = null, int times = 1) =>
        Update(c => c with { Corruptions = [.. c.Corruptions, new Corruption { File = file, Offset = offset, Length = length, Repo = repo, Times = times }] });

    /// <summary>Delays the first byte of matching responses.</summary>
    public void DelayFirstByte(TimeSpan delay, string? pathPrefix = null, int? count = null) =>
        Update(c => c with { Delays = [.. c.Delays, new FirstByteDelay { Milliseconds = (int)delay.TotalMilliseconds, PathPrefix = pathPrefix, Count = count }] });

    /// <summary>Serves whole files (200) to ranged requests while <paramref name="ignore"/> is true.</summary>
    public void IgnoreRange(bool ignore = true) => Update(c => c with { IgnoreRange = ignore });

    void Update(Func<FaultSettings, FaultSettings> change)
    {
        lock (gate) current = change(current);
    }

    internal (long? Global, long? PerConnection) ThrottleRates
    {
        get { lock (gate) return (current.ThrottleBytesPerSecond, current.ThrottlePerConnectionBytesPerSecond); }
    }

    internal StatusFailure? TakeFailure(string path)
    {
        lock (gate)
        {
            var list = current.Failures;
            for (int i = 0; i < list.Count; i++)
            {
                var f = list[i];
                if (f.Count <= 0 || !Matches(f.PathPrefix, path)) continue;
                current = current with { Failures = Replace(list, i, f.Count > 1 ? f with { Count = f.Count - 1 } : null) };
                return f;
            }
            return null;
        }
    }

    internal TimeSpan TakeDelay(string path)
    {
        lock (gate)
        {
            var list = current.Delays;
            for (int i = 0; i < list.Count; i++)
            {
                var d = list[i];
                if (!Matches(d.PathPrefix, path)) continue;
                if (d.Count is int n)
                {
                    if (n <= 0) continue;
                    current = current with { Delays = Replace(list, i, n > 1 ? d with { Count = n - 1 } : null) };
                }
                return TimeSpan.FromMilliseconds(d.Milliseconds);
            }
            return TimeSpan.Zero;
        }
    }

    internal ConnectionCut? TakeCut(string repo, string file, long responseLength)
    {
        lock (gate)
        {
            var list = current.Cuts;
            for (int i = 0; i < list.Count; i++)
            {
                var c = list[i];
                if (c.Times <= 0 || !SameFile(c.Repo, c.File, repo, file) || c.AfterBytes >= responseLength) continue;
                current = current with { Cuts = Replace(list, i, c.Times > 1 ? c with { Times = c.Times - 1 } : null) };
                return c;
            }
            return null;
        }
    }

    internal Corruption? TakeCorruption(string repo, string file, long start, long length)
    {
        lock (gate)
        {
            var list = current.Corruptions;
            for (int i = 0; i < list.Count; i++)
            {
                var c = list[i];
                bool covered = c.Offset < start + length && c.Offset + Math.Max(1, c.Length) > start;
                if (c.Times <= 0 || !SameFile(c.Repo, c.File, repo, file) || !covered) continue;
                current = current with { Corruptions = Replace(list, i, c.Times > 1 ? c with { Times = c.Times - 1 } : null) };
                return c;
            }
            return null;
        }
    }

    static bool Matches(string? prefix, string path) =>
        string.IsNullOrEmpty(prefix) || path.StartsWith(prefix, StringComparison.Ordinal);

    static bool SameFile(string? faultRepo, string faultFile, string repo, string file) =>
        (faultRepo is null || faultRepo.Equals(repo, StringComparison.OrdinalIgnoreCase))
        && faultFile.TrimStart('/').Equals(file, StringComparison.Ordinal);

    static T[] Replace<T>(IReadOnlyList<T> list, int index, T? replacement) where T : class
    {
        var copy = list.ToList();
        if (replacement is null) copy.RemoveAt(index);
        else copy[index] = replacement;
        return [.. copy];
    }
}
