using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Data;

namespace MlxManager.Core.Downloads;

/// <summary>Takes, renews and releases the lease on a download record with compare-and-swap updates.</summary>
internal static class DownloadLeases
{
    /// <summary>Takes the record for <paramref name="lease"/> when it is free (see <see cref="DownloadLease.IsFree"/>); false when someone else holds it.</summary>
    public static async Task<bool> TryClaimAsync(AppDbContext db, int downloadId, DownloadLease lease, TimeSpan duration, DateTime nowUtc, CancellationToken cancellationToken)
    {
        var current = await db.Downloads.AsNoTracking()
            .Where(d => d.Id == downloadId)
            .Select(d => new { d.LeaseOwner, d.LeaseExpiresAtUtc })
            .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        if (current is null || !DownloadLease.IsFree(current.LeaseOwner, current.LeaseExpiresAtUtc, nowUtc))
        {
            return false;
        }

        var previous = current.LeaseOwner;
        var owner = lease.ToString();
        var expires = nowUtc + duration;
        var rows = await db.Downloads
            .Where(d => d.Id == downloadId && d.LeaseOwner == previous)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseOwner, owner).SetProperty(d => d.LeaseExpiresAtUtc, expires), cancellationToken)
            .ConfigureAwait(false);
        return rows == 1;
    }

    /// <summary>Gives the record back, if <paramref name="lease"/> still holds it.</summary>
    public static Task<int> ReleaseAsync(AppDbContext db, int downloadId, DownloadLease lease, CancellationToken cancellationToken)
    {
        var owner = lease.ToString();
        return db.Downloads
            .Where(d => d.Id == downloadId && d.LeaseOwner == owner)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseOwner, (string?)null).SetProperty(d => d.LeaseExpiresAtUtc, (DateTime?)null), cancellationToken);
    }
}
