namespace MlxManager.Core.Accounts;

/// <summary>
/// Serializes account changes whose rules depend on other accounts ("the first user becomes admin",
/// "the last active admin stays"). Inside this process the semaphore orders callers; the
/// <c>BEGIN IMMEDIATE</c> transaction each caller opens orders writers across processes too.
/// </summary>
public sealed class AccountWriteGate : IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(1, 1);

    /// <summary>Waits for the gate; dispose the result to release it.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await _semaphore.WaitAsync(cancellationToken);
        return new Release(_semaphore);
    }

    public void Dispose() => _semaphore.Dispose();

    private sealed class Release(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                semaphore.Release();
            }
        }
    }
}
