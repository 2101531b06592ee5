using MlxManager.EngineEmulator.Generation;

namespace MlxManager.Tools.Tests.EngineEmulator.Generation;

public sealed class ComputeLoopTests
{
    [Theory]
    [InlineData(25, 2048, new[] { 0, 24, 25 })]
    [InlineData(10, 4, new[] { 0, 4, 8, 9, 10 })]
    [InlineData(1, 2048, new[] { 0, 1 })]
    public void PrefillCheckpoints_FollowMlxLmsProgressCallback(int total, int step, int[] expected)
    {
        ComputeLoop.PrefillCheckpoints(total, step).ShouldBe(expected);
    }

    [Fact]
    public async Task Slot_GetsTokensAtRoughlyTheRate()
    {
        using var loop = new ComputeLoop(tokensPerSecond: 200, prefillPerSecond: 100_000);
        var slot = loop.Begin(10, 2048);
        await foreach (var _ in slot.Progress.Reader.ReadAllAsync()) { }
        var clock = System.Diagnostics.Stopwatch.StartNew();

        for (int i = 0; i < 40; i++) await slot.NextTokenAsync(CancellationToken.None);
        loop.End(slot);

        // 40 tokens at 200/s: 0.2 s, never much faster (credit is earned by elapsed time).
        clock.Elapsed.TotalSeconds.ShouldBeGreaterThan(0.15);
    }
}
