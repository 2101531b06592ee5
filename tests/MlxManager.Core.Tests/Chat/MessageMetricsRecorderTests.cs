using Microsoft.Extensions.Time.Testing;
using MlxManager.Core.Chat;

namespace MlxManager.Core.Tests.Chat;

public class MessageMetricsRecorderTests
{
    [Fact]
    public void Snapshot_MeasuresTimeToFirstToken_ThinkingTime_AndGenerationSpeed()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var recorder = new MessageMetricsRecorder(time);
        recorder.Start();

        time.Advance(TimeSpan.FromMilliseconds(300)); // prefill
        recorder.Observe(new PrefillProgress(1, 2));
        time.Advance(TimeSpan.FromMilliseconds(200));
        recorder.Observe(new ReasoningDelta("hmm"));      // first token at 0.5 s
        time.Advance(TimeSpan.FromSeconds(2));
        recorder.Observe(new ContentDelta("Answer"));      // answer starts at 2.5 s: thought for 2 s
        time.Advance(TimeSpan.FromSeconds(2));
        recorder.Observe(new ContentDelta(" done"));       // last token at 4.5 s
        recorder.Observe(new UsageReported(new TokenUsage(100, 41, 141, 64)));
        recorder.Observe(new TimingsReported(new EngineTimings(20.5, null, null, null, 4.2)));
        time.Advance(TimeSpan.FromMilliseconds(100));
        recorder.Observe(new StreamEnded(true));

        var metrics = recorder.Snapshot();

        metrics.TimeToFirstToken.ShouldBe(TimeSpan.FromMilliseconds(500));
        metrics.ThinkingDuration.ShouldBe(TimeSpan.FromSeconds(2));
        metrics.Duration.ShouldBe(TimeSpan.FromMilliseconds(4600));
        metrics.PromptTokens.ShouldBe(100);
        metrics.CachedPromptTokens.ShouldBe(64);
        metrics.CompletionTokens.ShouldBe(41);
        metrics.TokensEstimated.ShouldBeFalse();
        metrics.TokensPerSecond!.Value.ShouldBe(10.0, 1e-9); // 40 tokens after the first, in 4 s
        metrics.EngineTokensPerSecond.ShouldBe(20.5);
        metrics.PeakMemoryGb.ShouldBe(4.2);
    }

    [Fact]
    public void Snapshot_WithoutUsage_EstimatesTokensFromStreamedPieces()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var recorder = new MessageMetricsRecorder(time);
        recorder.Start();
        for (var i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            recorder.Observe(new ContentDelta("x"));
        }

        var metrics = recorder.Snapshot();

        metrics.CompletionTokens.ShouldBe(5);
        metrics.TokensEstimated.ShouldBeTrue();
        metrics.TokensPerSecond!.Value.ShouldBe(10.0, 1e-9);
        metrics.ThinkingDuration.ShouldBeNull();
    }

    [Fact]
    public void Snapshot_BeforeAnyToken_HasNoSpeed()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var recorder = new MessageMetricsRecorder(time);
        recorder.Start();
        time.Advance(TimeSpan.FromSeconds(1));

        var metrics = recorder.Snapshot();

        metrics.TimeToFirstToken.ShouldBeNull();
        metrics.TokensPerSecond.ShouldBeNull();
        metrics.CompletionTokens.ShouldBeNull();
        metrics.Duration.ShouldBe(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Reclassification_MovesTheStartOfTheAnswerToThinking()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var recorder = new MessageMetricsRecorder(time);
        recorder.Start();
        time.Advance(TimeSpan.FromSeconds(1));
        recorder.Observe(new ContentDelta("thinking that looked like an answer"));
        time.Advance(TimeSpan.FromSeconds(3));
        recorder.Observe(new ContentReclassifiedAsReasoning("thinking that looked like an answer"));
        recorder.Observe(new ContentDelta("Real answer"));

        recorder.Snapshot().ThinkingDuration.ShouldBe(TimeSpan.FromSeconds(3));
    }
}
