using Microsoft.Extensions.Hosting;

namespace MlxManager.Core.Platform;

/// <summary>
/// A background service that writes what it still holds when the host stops (<see cref="DrainAsync"/>), once: stopping
/// may be asked twice at the same time — a host run by <c>app.Run()</c> stops itself when asked to stop, and then
/// disposes its services, while whoever asked is stopping it too (the test hosts do) — and each caller then waits for the
/// same drain, so the services are never disposed while it still writes.
/// </summary>
public abstract class DrainingBackgroundService : BackgroundService
{
    private readonly Lock _gate = new();
    private Task? _stopping;

    public sealed override Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _stopping ??= StopOnceAsync(cancellationToken);
        }
    }

    /// <summary>Writes what is left; called once, after <see cref="BackgroundService.ExecuteAsync"/> has ended.</summary>
    protected abstract Task DrainAsync(CancellationToken cancellationToken);

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await DrainAsync(cancellationToken);
    }
}
