using MlxManager.Core.Discovery;

namespace MlxManager.Core.Gateway;

/// <summary>Whether admission may stop a running server to make room.</summary>
public enum ResidentRole
{
    /// <summary>Ready, nothing in flight, not kept loaded: may be stopped, least recently used first.</summary>
    Idle,

    /// <summary>Its profile says "Keep loaded": never stopped.</summary>
    Pinned,

    /// <summary>Requests waiting or running, or still starting/loading: never stopped.</summary>
    Busy,

    /// <summary>Already stopping: its memory comes back soon, without anyone stopping it.</summary>
    Stopping,
}

/// <summary>A server holding memory, as admission sees it.</summary>
/// <param name="ServerId">The profile id.</param>
/// <param name="Name">The profile's name.</param>
/// <param name="UsedBytes">What it counts for: the larger of its measured memory and its estimate.</param>
/// <param name="IdleSince">When its last request ended (or it became ready): least recently used is stopped first.</param>
/// <param name="Role">Whether it may be stopped.</param>
public sealed record ResidentServer(int ServerId, string Name, long UsedBytes, DateTimeOffset IdleSince, ResidentRole Role);

/// <summary>What admission decided for one start, with the figures behind it.</summary>
/// <param name="Fits">The server may start once <see cref="Evict"/> are stopped.</param>
/// <param name="NeededBytes">The profile's estimate; null when unknown (it is then admitted on the memory it will measure).</param>
/// <param name="BudgetBytes">What all servers together may use.</param>
/// <param name="FreeBytes">Budget minus what the running servers use, before any eviction (may be negative).</param>
/// <param name="Evict">Idle servers to stop first, in this order; empty when it fits as is or cannot fit at all.</param>
/// <param name="Residents">Every server counted.</param>
public sealed record MemoryPlan(bool Fits, long? NeededBytes, long BudgetBytes, long FreeBytes, IReadOnlyList<ResidentServer> Evict, IReadOnlyList<ResidentServer> Residents)
{
    /// <summary>Servers that hold memory and may not be stopped now.</summary>
    public IEnumerable<ResidentServer> Unstoppable => Residents.Where(r => r.Role is ResidentRole.Pinned or ResidentRole.Busy);

    /// <summary>It would fit once the servers already stopping are gone (worth waiting for them instead of refusing).</summary>
    public bool FitsAfterStopping =>
        !Fits && NeededBytes is { } needed && Residents.Any(r => r.Role == ResidentRole.Stopping)
        && needed <= FreeBytes + Residents.Where(r => r.Role is ResidentRole.Idle or ResidentRole.Stopping).Sum(r => r.UsedBytes);

    /// <summary>One paragraph for the 503 <c>insufficient_memory</c>: needed, free, budget, and who holds the rest.</summary>
    public string Explain(string profileName)
    {
        var held = Unstoppable.Select(r => $"\"{r.Name}\" {ModelFormat.BinaryBytes(r.UsedBytes)} ({(r.Role == ResidentRole.Pinned ? "kept loaded" : "busy")})").ToList();
        var idle = Residents.Where(r => r.Role == ResidentRole.Idle).Sum(r => r.UsedBytes);
        return $"Not enough memory to load \"{profileName}\": it needs about {ModelFormat.BinaryBytes(NeededBytes ?? 0)}, "
            + $"{ModelFormat.BinaryBytes(Math.Max(0, FreeBytes))} of the {ModelFormat.BinaryBytes(BudgetBytes)} budget is free"
            + (idle > 0 ? $" ({ModelFormat.BinaryBytes(Math.Max(0, FreeBytes + idle))} after stopping every idle server)" : "")
            + (held.Count > 0 ? $"; not stoppable now: {string.Join(", ", held)}" : "")
            + ". Try again when a model is free, or ask an administrator to stop one or raise MlxManager:Gateway:MemoryBudget.";
    }
}

/// <summary>
/// The rule of memory-aware admission, on plain figures: a server may start when its estimate fits in the budget less
/// what the running servers use; if not, idle servers (not kept loaded, nothing in flight) are stopped least recently
/// used first until it fits — and none is stopped when even that would not be enough. Servers kept loaded, busy or
/// still loading are never chosen. An unknown estimate is admitted (nothing to compare); it counts with its measured
/// memory once it runs.
/// </summary>
public static class MemoryAdmission
{
    public static MemoryPlan Plan(long? neededBytes, long budgetBytes, IReadOnlyList<ResidentServer> residents)
    {
        ArgumentNullException.ThrowIfNull(residents);
        var free = budgetBytes - residents.Sum(r => r.UsedBytes);
        if (neededBytes is not { } needed || needed <= free)
        {
            return new MemoryPlan(true, neededBytes, budgetBytes, free, [], residents);
        }

        var evict = new List<ResidentServer>();
        var room = free;
        foreach (var candidate in residents.Where(r => r.Role == ResidentRole.Idle).OrderBy(r => r.IdleSince).ThenBy(r => r.ServerId))
        {
            evict.Add(candidate);
            room += candidate.UsedBytes;
            if (needed <= room)
            {
                return new MemoryPlan(true, needed, budgetBytes, free, evict, residents);
            }
        }

        return new MemoryPlan(false, needed, budgetBytes, free, [], residents);
    }
}
