using System.Net;

namespace MlxManager.Core.Hub;

/// <summary>
/// Inside each attempt of <see cref="HubResilience"/>'s pipeline: reads the body of a request marked with
/// <see cref="ReadLimit"/> (API JSON, metadata files, safetensors headers) into memory, so a connection cut mid-body
/// is retried like a failed request and the attempt's timeout covers the body. Never more than asked: a body longer
/// than the limit fails with <see cref="HubErrorKind.BadResponse"/> (not retried), and when a server ignores
/// <c>Range</c> (a 200 to a ranged request) only the bytes asked for are read before the connection is dropped.
/// Requests without the mark (download streams) pass through unread.
/// </summary>
public sealed class HubBodyReader : DelegatingHandler
{
    /// <summary>Most bytes to read of the answer's body (for a ranged request: of the range).</summary>
    public static readonly HttpRequestOptionsKey<long> ReadLimit = new("MlxManager.Hub.ReadLimit");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!request.Options.TryGetValue(ReadLimit, out var limit) || !response.IsSuccessStatusCode)
        {
            return response;
        }

        try
        {
            var range = request.Headers.Range?.Ranges.FirstOrDefault();
            var rangeIgnored = range is not null && response.StatusCode == HttpStatusCode.OK;
            var skip = rangeIgnored ? range!.From ?? 0 : 0;
            var wanted = rangeIgnored && range!.To is { } to ? Math.Min(to - skip + 1, limit) : limit;

            // One byte more than allowed tells a body that is too long, without reading the rest of it.
            var bytes = await ReadAsync(response.Content, skip, rangeIgnored ? wanted : limit + 1, cancellationToken).ConfigureAwait(false);
            if (!rangeIgnored && bytes.Length > limit)
            {
                throw new HubException(HubErrorKind.BadResponse,
                    $"{request.RequestUri?.AbsolutePath} is larger than {limit:N0} bytes, the most read of such a file; it was not read.", status: response.StatusCode);
            }

            var content = new ByteArrayContent(bytes);
            foreach (var header in response.Content.Headers.Where(h => h.Key is not ("Content-Length" or "Content-Range")))
            {
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            if (response.Content.Headers.ContentRange is { } contentRange)
            {
                content.Headers.ContentRange = contentRange;
            }

            content.Headers.ContentLength = bytes.Length;
            response.Content.Dispose(); // drops a connection whose body was not read to the end
            response.Content = content;
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private static async Task<byte[]> ReadAsync(HttpContent content, long skip, long count, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[(int)Math.Min(81_920, Math.Max(1, count))];
            using var kept = new MemoryStream();
            long skipped = 0;
            while (kept.Length < count)
            {
                var want = skipped < skip ? (int)Math.Min(buffer.Length, skip - skipped) : (int)Math.Min(buffer.Length, count - kept.Length);
                var read = await stream.ReadAsync(buffer.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                if (skipped < skip)
                {
                    skipped += read;
                }
                else
                {
                    kept.Write(buffer, 0, read);
                }
            }

            return kept.ToArray();
        }
    }
}
