using MlxManager.Core.Gateway;

namespace MlxManager.Core.Tests.Gateway;

public class MemoryAdmissionTests
{
    private const long GiB = 1L << 30;
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static ResidentServer Server(int id, long gib, int minutesAgo, ResidentRole role = ResidentRole.Idle) =>
        new(id, $"server {id}", gib * GiB, T0.AddMinutes(-minutesAgo), role);

    [Fact]
    public void WhatFitsInTheFreeMemory_StartsWithoutStoppingAnything()
    {
        var plan = MemoryAdmission.Plan(4 * GiB, 16 * GiB, [Server(1, 8, 30), Server(2, 4, 60)]);

        plan.Fits.ShouldBeTrue();
        plan.Evict.ShouldBeEmpty();
        plan.FreeBytes.ShouldBe(4 * GiB);
    }

    [Fact]
    public void IdleServers_AreStopped_LeastRecentlyUsedFirst_OnlyAsManyAsNeeded()
    {
        // 2 GiB free; 5 GiB needed: the oldest (3, 90 min ago) gives 4 → enough. 1 and 2 stay.
        var plan = MemoryAdmission.Plan(5 * GiB, 16 * GiB, [Server(1, 6, 5), Server(2, 4, 30), Server(3, 4, 90)]);

        plan.Fits.ShouldBeTrue();
        plan.Evict.Select(s => s.ServerId).ShouldBe([3]);
    }

    [Fact]
    public void EvictionGoesOnInLruOrder_UntilItFits()
    {
        var plan = MemoryAdmission.Plan(9 * GiB, 16 * GiB, [Server(1, 6, 5), Server(2, 4, 30), Server(3, 4, 90)]);

        plan.Evict.Select(s => s.ServerId).ShouldBe([3, 2]);
    }

    [Fact]
    public void KeptLoaded_BusyAndStoppingServers_AreNeverChosen_EvenWhenOlder()
    {
        var plan = MemoryAdmission.Plan(4 * GiB, 16 * GiB,
        [
            Server(1, 4, 500, ResidentRole.Pinned),
            Server(2, 4, 400, ResidentRole.Busy),
            Server(3, 4, 300, ResidentRole.Stopping),
            Server(4, 4, 5),
        ]);

        plan.Fits.ShouldBeTrue();
        plan.Evict.Select(s => s.ServerId).ShouldBe([4]);
    }

    [Fact]
    public void WhenEvenStoppingEveryIdleServerIsNotEnough_NothingIsStopped_AndTheExplanationHasTheFigures()
    {
        var plan = MemoryAdmission.Plan(6 * GiB, 16 * GiB, [Server(1, 8, 500, ResidentRole.Pinned), Server(2, 4, 400, ResidentRole.Busy), Server(3, 3, 5)]);

        plan.Fits.ShouldBeFalse();
        plan.Evict.ShouldBeEmpty();
        plan.FitsAfterStopping.ShouldBeFalse();
        var text = plan.Explain("Qwen3");
        text.ShouldContain("\"Qwen3\"");
        text.ShouldContain("needs about 6 GiB");
        text.ShouldContain("1 GiB of the 16 GiB budget is free");
        text.ShouldContain("4 GiB after stopping every idle server");
        text.ShouldContain("\"server 1\" 8 GiB (kept loaded)");
        text.ShouldContain("\"server 2\" 4 GiB (busy)");
    }

    [Fact]
    public void AModelLargerThanTheWholeBudget_IsRefused_WithoutStoppingAnything()
    {
        var plan = MemoryAdmission.Plan(20 * GiB, 16 * GiB, [Server(1, 2, 90)]);

        plan.Fits.ShouldBeFalse();
        plan.Evict.ShouldBeEmpty();
    }

    [Fact]
    public void WhenOnlyAServerThatIsAlreadyStoppingHoldsTheRoom_TheStartWaitsForIt()
    {
        var plan = MemoryAdmission.Plan(6 * GiB, 8 * GiB, [Server(1, 6, 5, ResidentRole.Stopping)]);

        plan.Fits.ShouldBeFalse();
        plan.FitsAfterStopping.ShouldBeTrue();
    }

    [Fact]
    public void AnUnknownEstimate_IsAdmitted()
    {
        var plan = MemoryAdmission.Plan(null, 8 * GiB, [Server(1, 8, 5)]);

        plan.Fits.ShouldBeTrue();
        plan.Evict.ShouldBeEmpty();
    }
}
