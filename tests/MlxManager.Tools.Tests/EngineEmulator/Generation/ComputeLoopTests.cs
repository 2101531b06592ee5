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

    [Fact]
    public void TokensNobodyTakes_DoNotPileUp_SoALateReaderGetsThemAtTheRate()
    {
        using var loop = ComputeLoop.Stepped(tokensPerSecond: 200, prefillPerSecond: 100_000);
        var slot = Generating(loop);

        // The reader is late by 200 ms (40 tokens' worth, as a busy CI machine delayed it): one token waits for it.
        for (int pass = 0; pass < 40; pass++) loop.Step(TimeSpan.FromMilliseconds(5));
        slot.Tokens.CurrentCount.ShouldBe(1);

        // From then on it gets one token per 5 ms pass, never a burst.
        slot.Tokens.Wait(0).ShouldBeTrue();
        for (int pass = 0; pass < 40; pass++)
        {
            loop.Step(TimeSpan.FromMilliseconds(5));
            slot.Tokens.CurrentCount.ShouldBe(1, $"pass {pass}");
            slot.Tokens.Wait(0).ShouldBeTrue();
        }
    }

    [Fact]
    public void AStretchedPass_GivesAWaitingReaderTheTokensOfTheTimeThatPassed_AtMostEightAtOnce()
    {
        using var loop = ComputeLoop.Stepped(tokensPerSecond: 200, prefillPerSecond: 100_000);
        var slot = Generating(loop);

        loop.Step(TimeSpan.FromMilliseconds(30));

        slot.Tokens.CurrentCount.ShouldBe(6, "30 ms at 200 tokens/s");
        while (slot.Tokens.Wait(0)) { }
        loop.Step(TimeSpan.FromSeconds(2));
        slot.Tokens.CurrentCount.ShouldBe(8);
    }

    [Fact]
    public void APassWhileTheReaderHoldsAToken_EarnsNothing()
    {
        using var loop = ComputeLoop.Stepped(tokensPerSecond: 200, prefillPerSecond: 100_000);
        var slot = Generating(loop);
        loop.Step(TimeSpan.FromMilliseconds(7.5));
        slot.Tokens.CurrentCount.ShouldBe(1, "1.5 tokens earned: one given, half a token of credit left");

        loop.Step(TimeSpan.FromMilliseconds(100));
        slot.Tokens.Wait(0).ShouldBeTrue();
        loop.Step(TimeSpan.FromMilliseconds(5));

        slot.Tokens.CurrentCount.ShouldBe(1, "the 100 ms the token waited and the half token before it earn nothing");
    }

    // A slot past its prompt processing: one 5 ms pass does 10 prompt tokens at 100 000/s.
    static GenerationSlot Generating(ComputeLoop loop)
    {
        var slot = loop.Begin(10, 2048);
        loop.Step(TimeSpan.FromMilliseconds(5));
        var reported = new List<(int, int)>();
        while (slot.Progress.Reader.TryRead(out var progress)) reported.Add(progress);
        reported.ShouldBe([(0, 10), (9, 10), (10, 10)]);
        return slot;
    }
}
