using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace MlxManager.Core.Hub;

/// <summary>
/// The one resilience pipeline of every Hub request (the Hub's API, resolves, the CDN), from the
/// <c>MlxManager:Hub</c> options: retry (outermost; at most <see cref="HubClientOptions.MaxAttempts"/> attempts in all,
/// exponential back-off from <see cref="HubClientOptions.RetryBaseDelay"/> with jitter, capped by
/// <see cref="HubClientOptions.RetryMaxDelay"/>, which also caps a server's <c>Retry-After</c>), then a circuit
/// breaker (half of at least <see cref="CircuitMinimumThroughput"/> attempts failing within
/// <see cref="CircuitSamplingDuration"/> opens it for <see cref="CircuitBreakDuration"/>; a 429 never counts), then the per-attempt timeout
/// <see cref="HubClientOptions.RequestTimeout"/>. Transient: 408, 429, 500, 502, 503, 504, dropped connections and
/// timed-out attempts. The timeout covers an attempt until its headers arrive, plus the body of small reads that
/// <see cref="HubBodyReader"/> buffers inside the attempt; a download stream is read after the pipeline returned,
/// so no timeout here cuts a long transfer (the downloader's stall timeout watches it).
/// </summary>
public static partial class HubResilience
{
    public const string PipelineName = "hub";

    public const int CircuitMinimumThroughput = 20;

    public static readonly TimeSpan CircuitSamplingDuration = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan CircuitBreakDuration = TimeSpan.FromSeconds(5);

    /// <summary>Adds the strategies to <paramref name="pipeline"/>.</summary>
    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, HubClientOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(options);
        var time = timeProvider ?? TimeProvider.System;
        var log = logger ?? NullLogger.Instance;
        if (options.MaxAttempts > 1)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                ShouldRetryAfterHeader = false, // read below, capped by RetryMaxDelay
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfter(response, options.RetryMaxDelay, time) : null),
                OnRetry = args =>
                {
                    LogRetry(log, args.AttemptNumber + 1, Reason(args.Outcome), args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            });
        }

        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = 0.5,
            MinimumThroughput = CircuitMinimumThroughput,
            SamplingDuration = CircuitSamplingDuration,
            BreakDuration = CircuitBreakDuration,
            // A 429 is the Hub asking to slow down, not failing: the retry waits its Retry-After; it never opens the circuit.
            ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome) && args.Outcome.Result?.StatusCode != HttpStatusCode.TooManyRequests),
        });
        pipeline.AddTimeout(options.RequestTimeout);
    }

    /// <summary>
    /// The client's handler when it is built without dependency injection (tests, tools/Bench): the same pipeline
    /// over <see cref="HubBodyReader"/> and <see cref="HubClient.CreatePrimaryHandler"/>, as the app registers it.
    /// </summary>
    public static HttpMessageHandler CreateHandler(HubClientOptions options, TimeProvider? timeProvider = null, ILogger? logger = null, Func<HttpMessageHandler, HttpMessageHandler>? wrapPrimary = null)
    {
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = timeProvider ?? TimeProvider.System };
        Configure(pipeline, options, timeProvider, logger);
        HttpMessageHandler primary = HubClient.CreatePrimaryHandler();
        return new ResilienceHandler(pipeline.Build())
        {
            InnerHandler = new HubBodyReader { InnerHandler = wrapPrimary?.Invoke(primary) ?? primary },
        };
    }

    /// <summary>True for an answer or failure worth another attempt.</summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or IOException or TimeoutRejectedException } => true,
        { Result: { } response } => (int)response.StatusCode is 408 or 429 or 500 or 502 or 503 or 504,
        _ => false,
    };

    private static TimeSpan? RetryAfter(HttpResponseMessage response, TimeSpan max, TimeProvider time)
    {
        var wanted = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow(),
            _ => (TimeSpan?)null,
        };
        return wanted is { } value ? TimeSpan.FromTicks(Math.Clamp(value.Ticks, 0, max.Ticks)) : null;
    }

    private static string Reason(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception?.Message ?? $"HTTP {(int)(outcome.Result?.StatusCode ?? HttpStatusCode.InternalServerError)}";

    [LoggerMessage(Level = LogLevel.Information, Message = "Hub request: attempt {Attempt} failed ({Reason}); retrying in {DelayMs:0} ms")]
    private static partial void LogRetry(ILogger logger, int attempt, string reason, double delayMs);
}
