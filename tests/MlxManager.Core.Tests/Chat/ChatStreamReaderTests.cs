using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using MlxManager.Core.Chat;

namespace MlxManager.Core.Tests.Chat;

public class ChatStreamReaderTests
{
    private readonly ChatStreamReader _reader = new(NullLogger<ChatStreamReader>.Instance);

    [Theory]
    [InlineData(HttpStatusCode.NotFound, """{"detail": "Model not found"}""", "Model not found")]
    [InlineData(HttpStatusCode.UnprocessableEntity, """{"detail": [{"loc": ["body","messages"], "msg": "field required"}]}""", "field required")]
    [InlineData(HttpStatusCode.ServiceUnavailable, "Service Unavailable", "Service Unavailable")]
    [InlineData(HttpStatusCode.LengthRequired, "", "411")]
    [InlineData(HttpStatusCode.InternalServerError, """{"error": {"message": "boom", "type": "internal"}}""", "boom")]
    public async Task ErrorStatus_BecomesOneEngineErrorWithTheEnginesMessage(HttpStatusCode status, string body, string expected)
    {
        using var response = new HttpResponseMessage(status) { Content = new StringContent(body) };

        var events = await _reader.ReadAsync(response, ThinkingStart.InAnswer, TestTimeout.Token).ToListAsync(TestTimeout.Token);

        events.Count.ShouldBe(2);
        var error = events[0].ShouldBeOfType<EngineError>();
        error.StatusCode.ShouldBe((int)status);
        error.Message.ShouldContain(expected);
        events[1].ShouldBe(new StreamEnded(false));
    }

    [Fact]
    public async Task JsonAnswer_FromAnEngineThatIgnoredStreaming_IsNormalised()
    {
        const string body = """{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hello","reasoning_content":"Greet."}}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}""";
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

        var summary = StreamSummary.Of(await _reader.ReadAsync(response, ThinkingStart.InAnswer, TestTimeout.Token).ToListAsync(TestTimeout.Token));

        summary.Content.ShouldBe("Hello");
        summary.Reasoning.ShouldBe("Greet.");
        summary.Complete.ShouldBeTrue();
    }

    [Fact]
    public async Task ConnectionLostMidStream_KeepsWhatArrived_AndReportsTheLoss()
    {
        var first = Encoding.UTF8.GetBytes("""data: {"choices":[{"index":0,"delta":{"content":"Partial"},"finish_reason":null}]}""" + "\n\n");
        await using var body = new BreakingStream(first);

        var events = await _reader.ReadAsync(body, ThinkingStart.InAnswer, TestTimeout.Token).ToListAsync(TestTimeout.Token);
        var summary = StreamSummary.Of(events);

        summary.Content.ShouldBe("Partial");
        summary.Error!.ShouldContain("connection to the engine was lost");
        events.OfType<EngineError>().Count().ShouldBe(1);
        events[^1].ShouldBe(new StreamEnded(false));
    }

    [Fact]
    public async Task ReadingStopsAtTheDoneMarker_EvenIfTheServerKeepsTheConnectionOpen()
    {
        var bytes = Encoding.UTF8.GetBytes(SseTranscripts.MlxVlmReasoningContentWithTimings);
        await using var body = new BreakingStream(bytes); // would throw if read past [DONE]

        var events = await _reader.ReadAsync(body, ThinkingStart.InAnswer, TestTimeout.Token).ToListAsync(TestTimeout.Token);

        events[^1].ShouldBe(new StreamEnded(true));
        events.OfType<EngineError>().ShouldBeEmpty();
    }

    [Fact]
    public async Task Cancellation_PropagatesToTheCaller()
    {
        await using var body = new BreakingStream([], hangInsteadOfBreaking: true);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Should.ThrowAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in _reader.ReadAsync(body, ThinkingStart.InAnswer, stop.Token))
            {
            }
        });
    }

    /// <summary>Returns its bytes, then fails like a dropped connection (or hangs like a stalled one).</summary>
    private sealed class BreakingStream(byte[] bytes, bool hangInsteadOfBreaking = false) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position < bytes.Length)
            {
                var count = Math.Min(buffer.Length, bytes.Length - _position);
                bytes.AsMemory(_position, count).CopyTo(buffer);
                _position += count;
                return count;
            }

            if (hangInsteadOfBreaking)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            throw new IOException("Connection reset by peer");
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
