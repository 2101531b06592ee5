using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Data;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Servers;

/// <summary>
/// Where runs are kept: the <see cref="ServerRun"/> rows, each run's files (<c>&lt;data&gt;/logs/servers/&lt;profile&gt;/&lt;run&gt;.log</c>
/// and <c>.out</c>) and working folder (<c>&lt;data&gt;/servers/&lt;profile&gt;/run-&lt;run&gt;</c>), and the rotation that keeps
/// the newest <see cref="ServerOptions.KeepRunsPerProfile"/> runs of each profile.
/// </summary>
internal sealed partial class RunStore(IServiceScopeFactory scopes, DataDirectory data, IOptions<ServerOptions> options, ILogger<RunStore> logger)
{
    /// <summary>Folder of a profile's run logs.</summary>
    public string LogFolderOf(int profileId) => data.PathFor("logs", "servers", profileId.ToString(CultureInfo.InvariantCulture));

    /// <summary>Folder of a profile's run working folders.</summary>
    public string WorkFolderOf(int profileId) => data.PathFor("servers", profileId.ToString(CultureInfo.InvariantCulture));

    public async Task<Profile?> FindProfileAsync(int profileId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Profiles.AsNoTracking().FirstOrDefaultAsync(p => p.Id == profileId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ids of the profiles marked auto-start, in id order.</summary>
    public async Task<List<int>> AutoStartProfileIdsAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Profiles.AsNoTracking().Where(p => p.AutoStart).OrderBy(p => p.Id).Select(p => p.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs still recorded as active (an earlier manager's servers), oldest first, with their profiles.</summary>
    public async Task<(List<ServerRun> Runs, List<Profile> Profiles)> ActiveRunsAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var active = ServerStates.Active;
        var rows = await db.ServerRuns.AsNoTracking().Where(r => active.Contains(r.State)).OrderBy(r => r.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        var ids = rows.Select(r => r.ProfileId).Distinct().ToList();
        var profiles = await db.Profiles.AsNoTracking().Where(p => ids.Contains(p.Id)).ToListAsync(cancellationToken).ConfigureAwait(false);
        return (rows, profiles);
    }

    /// <summary>Adds the row of a new run (state starting) with its file paths, creates its folders, and rotates the profile's old runs.</summary>
    public async Task<ServerRun> CreateAsync(Profile profile, string engineKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var logs = Directory.CreateDirectory(LogFolderOf(profile.Id)).FullName;
        var row = new ServerRun
        {
            ProfileId = profile.Id,
            ProfileName = profile.Name,
            Engine = engineKey,
            ModelReference = profile.ModelRef,
            Host = profile.Host,
            Port = profile.Port,
            State = ServerState.Starting,
            StartedAtUtc = now.UtcDateTime,
            LogPath = "",
            OutputPath = "",
            WorkingDirectory = "",
        };
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            // One transaction: the paths are named after the row's id, and a row must never be left without them.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            db.ServerRuns.Add(row);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            var runName = row.Id.ToString(CultureInfo.InvariantCulture);
            row.LogPath = Path.Combine(logs, runName + ".log");
            row.OutputPath = Path.Combine(logs, runName + ".out");
            row.WorkingDirectory = Path.Combine(WorkFolderOf(profile.Id), "run-" + runName);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var scope = scopes.CreateAsyncScope())
        {
            await RotateAsync(scope.ServiceProvider.GetRequiredService<AppDbContext>(), profile.Id, cancellationToken).ConfigureAwait(false);
        }

        Directory.CreateDirectory(row.WorkingDirectory);
        return row;
    }

    /// <summary>Saves the run's current snapshot into its row. Never throws: a failure is logged (the run goes on).</summary>
    public async Task SaveAsync(SupervisedRun run)
    {
        await run.PersistGate.WaitAsync().ConfigureAwait(false);
        var snapshot = run.Current;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var row = await db.ServerRuns.FirstOrDefaultAsync(r => r.Id == run.RunId).ConfigureAwait(false);
            if (row is null)
            {
                return; // its profile was deleted meanwhile
            }

            row.State = snapshot.State;
            row.Reason = snapshot.Detail;
            row.Pid = snapshot.Process?.Pid;
            row.ProcessStartTime = snapshot.Process?.StartTime;
            row.CommandLine = snapshot.CommandLine;
            row.ExitCode = snapshot.ExitCode;
            row.ModelReference = snapshot.Model.Reference;
            row.ModelIsMultimodal = snapshot.Model.IsMultimodal;
            row.FailureLog = snapshot.FailureLines.Count > 0 ? string.Join('\n', snapshot.FailureLines) : null;
            row.ReadyAtUtc = snapshot.ReadyAt?.UtcDateTime;
            row.EndedAtUtc = snapshot.EndedAt?.UtcDateTime;
            await db.SaveChangesAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException or ObjectDisposedException)
        {
            LogSaveFailed(logger, run.RunId, e);
        }
        finally
        {
            run.PersistGate.Release();
        }
    }

    /// <summary>Deletes a profile's log and working folders (its profile is being deleted).</summary>
    public void DeleteFoldersOf(int profileId)
    {
        DeleteFolder(LogFolderOf(profileId));
        DeleteFolder(WorkFolderOf(profileId));
    }

    private async Task RotateAsync(AppDbContext db, int profileId, CancellationToken cancellationToken)
    {
        var keep = options.Value.EffectiveKeepRuns;
        var old = await db.ServerRuns.Where(r => r.ProfileId == profileId).OrderByDescending(r => r.Id).Skip(keep).ToListAsync(cancellationToken).ConfigureAwait(false);
        var removable = old.Where(r => !r.State.IsActive()).ToList();
        foreach (var row in removable)
        {
            DeleteFile(row.LogPath);
            DeleteFile(RunLog.RotatedPath(row.LogPath));
            DeleteFile(row.OutputPath);
            DeleteFolder(row.WorkingDirectory);
        }

        db.ServerRuns.RemoveRange(removable);
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
    }

    private void DeleteFile(string path)
    {
        try
        {
            if (path.Length > 0 && File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCleanupFailed(logger, path, e);
        }
    }

    private void DeleteFolder(string path)
    {
        try
        {
            if (path.Length > 0 && Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCleanupFailed(logger, path, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not save the state of server run {RunId}")]
    private static partial void LogSaveFailed(ILogger logger, long runId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete {Path}")]
    private static partial void LogCleanupFailed(ILogger logger, string path, Exception exception);
}
