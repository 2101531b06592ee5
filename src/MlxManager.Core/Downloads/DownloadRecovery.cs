using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Downloads;

/// <summary>
/// At start-up (after the database migrations) and then every half minute: gives every download that should be
/// running a live job (<see cref="DownloadQueue.RecoverAsync"/>) and fills free slots from the queue.
/// </summary>
public sealed partial class DownloadRecovery(DownloadQueue queue, JobStorage storage, TimeProvider time, ILogger<DownloadRecovery> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await queue.RecoverAsync(storage, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogFailed(logger, exception);
            }

            await Task.Delay(Interval, time, stoppingToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking the downloads' jobs failed; trying again in a moment")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
