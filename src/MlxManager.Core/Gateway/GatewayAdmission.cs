using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Discovery;
using MlxManager.Core.Metrics;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;
using ISystemMemoryProbe = MlxManager.Core.Platform.ISystemMemoryProbe;
using SystemMemory = MlxManager.Core.Platform.SystemMemory;

namespace MlxManager.Core.Gateway;

/// <summary>
/// Starts servers for the gateway only when their memory estimate fits (<see cref="MemoryAdmission"/>), stopping idle
/// servers least recently used first to make room ("Stopped to make room for Qwen3 (asked by bob@…).") and refusing with
/// 503 <c>insufficient_memory</c> otherwise. One decision at a time: the gate is held from the check until the new
/// process runs (from then on it counts as a running server), so two starts never pass on the same free memory; the idle
/// unloader stops servers under the same gate.
/// </summary>
/// <remarks>
/// A running server counts for the larger of its measured memory (the metrics sampler) and its estimate: while it loads
/// the measurement is still growing, and a ready server's KV cache grows with the context its requests use — counting
/// only today's measurement would admit a model that a long prompt then pushes out of memory.
/// </remarks>
public sealed partial class GatewayAdmission(
    ServerSupervisor supervisor,
    GatewayLanes lanes,
    GatewayRouter router,
    ProfileModelResolver models,
    ISystemMemoryProbe memory,
    MetricsSampler metrics,
    IOptions<GatewayOptions> options,
    ILogger<GatewayAdmission> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>
    /// Starts <paramref name="profile"/>'s server for <paramref name="requestedBy"/> once it fits, stopping idle servers
    /// to make room. Returns when the process runs (it may still fail while loading) or the start failed; succeeds at once
    /// when another request started it meanwhile. Throws a 503 <see cref="GatewayException"/> when it cannot fit.
    /// </summary>
    public async Task<ServerCommandResult> StartAsync(Profile profile, string requestedBy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(profile);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                if (supervisor.Find(profile.Id) is { IsActive: true, State: not ServerState.Stopping } running)
                {
                    return new ServerCommandResult(true, $"The server of \"{profile.Name}\" is {running.State.Word()}.", running);
                }

                var plan = await PlanAsync(profile, cancellationToken).ConfigureAwait(false);
                if (plan.Fits && plan.Evict.Count == 0)
                {
                    LogAdmitted(profile.Name, plan.NeededBytes, plan.FreeBytes, plan.BudgetBytes);
                    return await supervisor.StartServerAsync(profile.Id, CancellationToken.None).ConfigureAwait(false);
                }

                if (plan.FitsAfterStopping)
                {
                    await WaitForStoppingAsync(plan, cancellationToken).ConfigureAwait(false);
                }
                else if (!plan.Fits)
                {
                    LogRefused(profile.Name, plan.NeededBytes, plan.FreeBytes, plan.BudgetBytes);
                    throw InsufficientMemory(profile, plan);
                }
                else
                {
                    // One at a time, then plan again: a server that got a request meanwhile is no longer idle.
                    cancellationToken.ThrowIfCancellationRequested();
                    await StopIdleAsync(plan.Evict[0].ServerId, $"Stopped to make room for {profile.Name} (asked by {requestedBy}).").ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs <paramref name="work"/> holding the admission gate (the idle unloader's stops).</summary>
    public async Task UnderGateAsync(Func<Task> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await work().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Stops <paramref name="serverId"/> for <paramref name="reason"/> unless a request holds its lane (or
    /// <paramref name="stillIdle"/>, asked once the lane is held, says a request came and went meanwhile); requests
    /// arriving during the stop wait and then start it again. False when it was in use.
    /// </summary>
    public async Task<bool> StopIdleAsync(int serverId, string reason, Func<bool>? stillIdle = null)
    {
        using var claim = lanes.TryClaim(serverId);
        if (claim is null || stillIdle?.Invoke() == false)
        {
            return false;
        }

        LogStopping(serverId, reason);
        await supervisor.StopServerAsync(serverId, reason, CancellationToken.None).ConfigureAwait(false);
        return true;
    }

    /// <summary>What starting <paramref name="profile"/> would take now; for the gate's holder and for tests.</summary>
    public async Task<MemoryPlan> PlanAsync(Profile profile, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var system = memory.Read();
        var settings = options.Value;
        var budget = settings.MemoryBudget ?? (long)(system.BudgetBytes * (1 - Math.Clamp(settings.MemoryReserve, 0, 0.9)));
        var pinned = (await router.ProfilesAsync(cancellationToken).ConfigureAwait(false)).Where(p => p.KeepLoaded).Select(p => p.Id).ToHashSet();
        var latest = metrics.Latest;
        var residents = new List<ResidentServer>();
        foreach (var server in supervisor.Servers.Where(s => s.IsActive && (s.ServerId != profile.Id || s.State == ServerState.Stopping)))
        {
            var estimate = await EstimateAsync(server.Profile, system, cancellationToken).ConfigureAwait(false);
            var measured = latest?.Servers.FirstOrDefault(m => m.ServerId == server.ServerId && m.Root == server.Process && m.IsRunning)?.MemoryBytes;
            var role = server.State switch
            {
                ServerState.Stopping => ResidentRole.Stopping,
                ServerState.Ready when pinned.Contains(server.ServerId) => ResidentRole.Pinned,
                ServerState.Ready when lanes.InFlight(server.ServerId) == 0 => ResidentRole.Idle,
                _ => ResidentRole.Busy,
            };
            residents.Add(new ResidentServer(server.ServerId, server.Profile.Name, Math.Max(measured ?? 0, estimate ?? 0), lanes.IdleSince(server), role));
        }

        var needed = await EstimateAsync(profile, system, cancellationToken).ConfigureAwait(false);
        return MemoryAdmission.Plan(needed, budget, residents);
    }

    /// <summary>Weights + KV cache at the profile's context + overhead: the figure the profile page shows.</summary>
    private async Task<long?> EstimateAsync(Profile profile, SystemMemory system, CancellationToken cancellationToken)
    {
        var model = await models.ResolveAsync(profile.ModelRef, cancellationToken).ConfigureAwait(false);
        return model.Characteristics is { } characteristics
            ? MemoryEstimator.Estimate(characteristics, profile.ContextLength, system).RequiredBytes
            : null;
    }

    private async Task WaitForStoppingAsync(MemoryPlan plan, CancellationToken cancellationToken)
    {
        foreach (var stopping in plan.Residents.Where(r => r.Role == ResidentRole.Stopping))
        {
            await supervisor.WaitUntilSettledAsync(stopping.ServerId, cancellationToken).ConfigureAwait(false);
        }
    }

    private static GatewayException InsufficientMemory(Profile profile, MemoryPlan plan) =>
        new(503, "server_error", "insufficient_memory", plan.Explain(profile.Name), "model")
        {
            Extra = new JsonObject
            {
                ["memory"] = new JsonObject
                {
                    ["needed_bytes"] = plan.NeededBytes,
                    ["free_bytes"] = plan.FreeBytes,
                    ["budget_bytes"] = plan.BudgetBytes,
                    ["servers"] = new JsonArray([.. plan.Residents.Select(r => new JsonObject
                    {
                        ["profile"] = r.Name,
                        ["used_bytes"] = r.UsedBytes,
                        ["role"] = r.Role.ToString().ToLowerInvariant(),
                    })]),
                },
            },
        };

    [LoggerMessage(Level = LogLevel.Information, Message = "Admitting \"{Profile}\": needs {Needed} bytes, {Free} of {Budget} free")]
    private partial void LogAdmitted(string profile, long? needed, long free, long budget);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refusing \"{Profile}\": needs {Needed} bytes, {Free} of {Budget} free and nothing idle to stop")]
    private partial void LogRefused(string profile, long? needed, long free, long budget);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping server {ServerId}: {Reason}")]
    private partial void LogStopping(int serverId, string reason);
}
