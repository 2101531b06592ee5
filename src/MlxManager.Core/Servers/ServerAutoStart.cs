using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MlxManager.Core.Servers;

/// <summary>
/// Starts the profiles marked auto-start when the manager starts (unless <see cref="ServerOptions.AutoStart"/> is off),
/// in the background, after the supervisor has re-attached to the servers left running: it is registered after the
/// supervisor, and the host starts hosted services in order. The host awaits it at shutdown.
/// </summary>
internal sealed partial class ServerAutoStart(ServerSupervisor supervisor, RunStore store, IOptions<ServerOptions> options, ILogger<ServerAutoStart> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.AutoStart)
        {
            return;
        }

        try
        {
            foreach (var id in await store.AutoStartProfileIdsAsync(stoppingToken).ConfigureAwait(false))
            {
                if (supervisor.Find(id) is { IsActive: true })
                {
                    continue;
                }

                var result = await supervisor.StartServerAsync(id, stoppingToken).ConfigureAwait(false);
                LogAutoStart(logger, id, result.Message);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The manager is shutting down before auto-start finished.
        }
        catch (Exception e)
        {
            LogAutoStartFailed(logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Auto-start of profile {ProfileId}: {Result}")]
    private static partial void LogAutoStart(ILogger logger, int profileId, string result);

    [LoggerMessage(Level = LogLevel.Error, Message = "Auto-start failed")]
    private static partial void LogAutoStartFailed(ILogger logger, Exception exception);
}
