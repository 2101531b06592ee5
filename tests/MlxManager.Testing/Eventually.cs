using System.Diagnostics;

namespace MlxManager.Testing;

/// <summary>Waits for a state that takes a moment to appear, instead of sleeping a fixed time.</summary>
public static class Eventually
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(25);

    /// <summary>Polls <paramref name="condition"/> until it holds; throws a <see cref="TimeoutException"/> naming <paramref name="because"/> after <paramref name="timeout"/>. Returns the time it took.</summary>
    public static Task<TimeSpan> WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string because) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, because);

    /// <inheritdoc cref="WaitUntilAsync(Func{bool}, TimeSpan, string)"/>
    public static async Task<TimeSpan> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string because)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition().ConfigureAwait(false))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Not within {timeout}: {because}");
            }

            await Task.Delay(Poll).ConfigureAwait(false);
        }

        return clock.Elapsed;
    }

    /// <summary>Reads a value until <paramref name="done"/> accepts it and returns it; throws after <paramref name="timeout"/> with the last value read.</summary>
    public static Task<T> ValueAsync<T>(Func<T> read, Func<T, bool> done, TimeSpan timeout, string because) =>
        ValueAsync(() => Task.FromResult(read()), done, timeout, because);

    /// <inheritdoc cref="ValueAsync{T}(Func{T}, Func{T, bool}, TimeSpan, string)"/>
    /// <param name="describe">How the last value reads in the failure message (its <c>ToString</c> when null).</param>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout, string because, Func<T, string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read().ConfigureAwait(false);
            if (done(value))
            {
                return value;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Not within {timeout}: {because}; last value: {(describe is null ? value?.ToString() : describe(value))}");
            }

            await Task.Delay(Poll).ConfigureAwait(false);
        }
    }
}
