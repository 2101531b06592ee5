using System.Net;
using MlxManager.Core.Hub;
using Polly.CircuitBreaker;
using Shouldly;
using Xunit;

namespace MlxManager.Core.Tests.Hub;

/// <summary>The circuit breaker of the Hub pipeline: servers failing open it; a Hub asking to slow down does not.</summary>
public sealed class HubResilienceTests
{
    [Fact]
    public async Task ManyTooManyRequests_NeverOpenTheCircuit()
    {
        var answers = new CountingHandler(HttpStatusCode.TooManyRequests);
        using var client = ClientOver(answers);

        for (var i = 0; i < HubResilience.CircuitMinimumThroughput * 2; i++)
        {
            using var response = await client.GetAsync("http://hub.test/api/models");
            response.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        }

        answers.Count.ShouldBe(HubResilience.CircuitMinimumThroughput * 2, "every request reached the server");
    }

    [Fact]
    public async Task ServerErrors_OpenTheCircuit_AfterTheMinimumThroughput()
    {
        var answers = new CountingHandler(HttpStatusCode.InternalServerError);
        using var client = ClientOver(answers);

        for (var i = 0; i < HubResilience.CircuitMinimumThroughput; i++)
        {
            using var response = await client.GetAsync("http://hub.test/api/models");
        }

        await Should.ThrowAsync<BrokenCircuitException>(() => client.GetAsync("http://hub.test/api/models"));
        answers.Count.ShouldBe(HubResilience.CircuitMinimumThroughput, "the open circuit kept the last request from the server");
    }

    private static HttpClient ClientOver(HttpMessageHandler server) =>
        new(HubResilience.CreateHandler(new HubClientOptions { MaxAttempts = 1 }, wrapPrimary: _ => server));

    private sealed class CountingHandler(HttpStatusCode status) : HttpMessageHandler
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return Task.FromResult(new HttpResponseMessage(status) { RequestMessage = request });
        }
    }
}
