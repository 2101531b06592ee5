using System.Diagnostics;
using MlxManager.Core.Downloads;

namespace MlxManager.Core.Tests.Downloads;

public sealed class DownloadLeaseTests
{
    private static readonly DateTime Now = new(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void IsFree_WithoutOwnerOrWhenExpired()
    {
        DownloadLease.IsFree(null, null, Now).ShouldBeTrue();
        DownloadLease.IsFree(new DownloadLease("elsewhere", 7, 1, "r").ToString(), Now.AddSeconds(-1), Now).ShouldBeTrue();
    }

    [Fact]
    public void IsFree_HeldByALiveProcess_IsNotFreeUntilItExpires()
    {
        var mine = DownloadLease.ForThisProcess("run-1").ToString();

        DownloadLease.IsFree(mine, Now.AddMinutes(1), Now).ShouldBeFalse();
        DownloadLease.IsFree(new DownloadLease("another-machine", 1, 1, "r").ToString(), Now.AddMinutes(1), Now).ShouldBeFalse("another machine's process can't be checked; only expiry frees it");
    }

    [Fact]
    public void IsFree_HeldByAProcessOfThisMachineThatDied_IsFreeAtOnce()
    {
        using var child = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        var lease = new DownloadLease(Environment.MachineName, child.Id, child.StartTime.ToUniversalTime().Ticks, "r").ToString();
        DownloadLease.IsFree(lease, Now.AddMinutes(1), Now).ShouldBeFalse("alive");

        child.Kill();
        child.WaitForExit();

        DownloadLease.IsFree(lease, Now.AddMinutes(1), Now).ShouldBeTrue("killed: its lease is stale");
    }

    [Fact]
    public void IsFree_WhenThePidWasReusedByAnotherProcess_IsFree()
    {
        using var current = Process.GetCurrentProcess();
        var lease = new DownloadLease(Environment.MachineName, current.Id, current.StartTime.ToUniversalTime().AddHours(-3).Ticks, "r").ToString();

        DownloadLease.IsFree(lease, Now.AddMinutes(1), Now).ShouldBeTrue();
    }

    [Fact]
    public void ToString_RoundTripsThroughParse()
    {
        var lease = new DownloadLease("mac-mini", 4242, 638_000_000_000_000_000, "abc");

        DownloadLease.Parse(lease.ToString()).ShouldBe(lease);
        DownloadLease.Parse("not a lease").ShouldBeNull();
    }
}
