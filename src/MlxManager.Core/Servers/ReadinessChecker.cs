using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MlxManager.Core.Engines;

namespace MlxManager.Core.Servers;

/// <summary>What a health request found.</summary>
/// <param name="Listening">Something answered HTTP on the port.</param>
/// <param name="StatusCode">The HTTP status, when it answered.</param>
/// <param name="Verdict">What the engine's answer means (<see cref="IEngineDefinition.InterpretHealth"/>).</param>
/// <param name="Detail">A short text for the tile, e.g. "health: loading (uninitialized)".</param>
public sealed record HealthAnswer(bool Listening, int? StatusCode, HealthVerdict Verdict, string? Detail);

/// <summary>What the one-token completion probe got.</summary>
/// <param name="Listening">The engine accepted the connection.</param>
/// <param name="StatusCode">The HTTP status, when it answered.</param>
/// <param name="Body">The start of the answer's body (for error messages).</param>
public sealed record CompletionAnswer(bool Listening, int? StatusCode, string? Body)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;
}

/// <summary>
/// Sends an engine's readiness probe (<see cref="IEngineDefinition.BuildReadinessProbe"/>) over real HTTP on
/// loopback: the health endpoint as an extra signal, the one-token chat completion as the proof. Requests carry
/// a Content-Length (mlx_lm.server answers 411 otherwise) and never go through a proxy.
/// </summary>
public sealed class ReadinessChecker(IHttpClientFactory httpClients)
{
    /// <summary>Name of the HttpClient registered for probes (no proxy, short connect timeout).</summary>
    public const string HttpClientName = "mlx-manager.engine-probe";

    private static readonly TimeSpan HealthTimeout = TimeSpan.FromSeconds(3);

    /// <summary>GETs the health endpoint; never throws for connection problems (they mean "not listening yet").</summary>
    public async Task<HealthAnswer> CheckHealthAsync(Uri baseUrl, IEngineDefinition engine, ReadinessProbe probe, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HealthTimeout);
        try
        {
            var client = httpClients.CreateClient(HttpClientName);
            using var response = await client.GetAsync(new Uri(baseUrl, probe.HealthPath), HttpCompletionOption.ResponseContentRead, timeout.Token)
                .ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            return new HealthAnswer(true, status, engine.InterpretHealth(status, body), DescribeHealth(status, body));
        }
        catch (Exception e) when (IsNotAnswering(e, cancellationToken))
        {
            return new HealthAnswer(e is TaskCanceledException, null, HealthVerdict.Unknown, null);
        }
    }

    /// <summary>POSTs the one-token completion and waits up to <paramref name="timeout"/> for the answer.</summary>
    public async Task<CompletionAnswer> ProbeCompletionAsync(Uri baseUrl, ReadinessProbe probe, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var client = httpClients.CreateClient(HttpClientName);
            var bytes = Encoding.UTF8.GetBytes(probe.CompletionBody);
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            content.Headers.ContentLength = bytes.Length;
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, probe.CompletionPath)) { Content = content };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
            return new CompletionAnswer(true, (int)response.StatusCode, body.Length <= 500 ? body : body[..500] + "…");
        }
        catch (Exception e) when (IsNotAnswering(e, cancellationToken))
        {
            return new CompletionAnswer(e is TaskCanceledException, null, null);
        }
    }

    /// <summary>"health: ok", "health 503: unhealthy (uninitialized)", "health: no model loaded yet"; null when there is nothing to say.</summary>
    public static string? DescribeHealth(int status, string body)
    {
        string? text = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                var parts = new List<string>();
                if (root.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String)
                {
                    parts.Add(s.GetString()!);
                }

                if (root.TryGetProperty("model_status", out var m) && m.ValueKind == JsonValueKind.String)
                {
                    parts.Add($"({m.GetString()})");
                }

                if (root.TryGetProperty("loaded_model", out var loaded))
                {
                    parts.Add(loaded.ValueKind == JsonValueKind.String ? $"model {loaded.GetString()} loaded" : "no model loaded yet");
                }

                text = parts.Count > 0 ? string.Join(' ', parts) : null;
            }
        }
        catch (JsonException)
        {
            // Not JSON: show the status code only.
        }

        var prefix = status == 200 ? "health" : $"health {status}";
        return text is null ? (status == 200 ? null : prefix) : $"{prefix}: {Shorten(text)}";
    }

    private static bool IsNotAnswering(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or SocketException or IOException;

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..120] + "…";
}
