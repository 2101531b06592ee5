namespace MlxManager.HubEmulator;

/// <summary>Paces a byte stream to a rate: each reservation of N bytes moves a "next free" moment forward by
/// N/rate and says how long to wait until the bytes may go. One instance shared by all responses gives a global
/// cap; one per response gives a per-connection cap.</summary>
internal sealed class BytePacer(TimeProvider clock)
{
    readonly Lock gate = new();
    long nextFree;

    /// <summary>Books <paramref name="bytes"/> at <paramref name="bytesPerSecond"/> and returns the wait before sending them.</summary>
    public TimeSpan Reserve(long bytes, long bytesPerSecond)
    {
        lock (gate)
        {
            long now = clock.GetTimestamp();
            long start = Math.Max(now, nextFree);
            // A pacer idle for a while must not bank credit and then burst.
            nextFree = start + (long)((double)bytes * clock.TimestampFrequency / Math.Max(1, bytesPerSecond));
            return clock.GetElapsedTime(now, nextFree);
        }
    }

    /// <summary>The chunk size that keeps pacing smooth (about 20 steps a second) at <paramref name="bytesPerSecond"/>.</summary>
    public static int ChunkFor(long bytesPerSecond, int bufferSize) =>
        (int)Math.Clamp(bytesPerSecond / 20, 1, bufferSize);
}
