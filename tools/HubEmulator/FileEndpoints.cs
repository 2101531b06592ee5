using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MlxManager.HubEmulator;

/// <summary>File downloads: <c>/{org}/{name}/resolve/{rev}/{path}</c> on the Hub (small files served directly, LFS
/// files redirected with an absolute 302 to a signed CDN URL) and <c>/cdn/repos/{sha256}</c> on the CDN listener.
/// Bodies stream from disk in constant memory and honour the injected faults.</summary>
internal static partial class FileEndpoints
{
    const int BufferSize = 1 << 20;

    public static async Task ResolveAsync(HttpContext context, HubSite site, string org, string name, string revision, string path)
    {
        var repo = await RepoAccess.FindAsync(context, site, org, name);
        if (repo is null) return;
        var response = context.Response;

        if (repo.Facts.Gated is "auto" or "manual")
        {
            var caller = site.Identify(context);
            if (caller == Caller.Anonymous)
            {
                await HubErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, HubErrors.GatedRepo,
                    $"Access to model {repo.Id} is restricted. You must have access to it and be authenticated to access it. Please log in.");
                return;
            }
            if (caller == Caller.OtherUser)
            {
                var page = $"{context.Request.Scheme}://{context.Request.Host}/{repo.Id}";
                await HubErrors.WriteAsync(context, StatusCodes.Status403Forbidden, HubErrors.GatedRepo,
                    $"Access to model {repo.Id} is restricted and you are not in the authorized list. Visit {page} to ask for access.");
                return;
            }
        }
        if (!repo.HasRevision(revision))
        {
            await HubErrors.RevisionNotFoundAsync(context, revision);
            return;
        }
        var identity = repo.Identity;
        response.Headers["X-Repo-Commit"] = identity.Commit;
        var file = repo.File(path);
        if (file is null)
        {
            await HubErrors.WriteAsync(context, StatusCodes.Status404NotFound, HubErrors.EntryNotFound, "Entry not found");
            return;
        }

        var etag = identity.Files[file.Path].Etag;
        response.Headers.ETag = site.Options.WeakEtags ? $"W/\"{etag}\"" : $"\"{etag}\"";
        response.Headers.AcceptRanges = "bytes";
        if (file.IsLfs)
        {
            response.Headers["X-Linked-Etag"] = $"\"{etag}\"";
            response.Headers["X-Linked-Size"] = file.Size.ToString(CultureInfo.InvariantCulture);
            var location = site.CdnBaseUrl + site.Signer.SignedPathAndQuery(etag, Disposition("attachment", Path.GetFileName(file.Path)));
            response.StatusCode = StatusCodes.Status302Found;
            response.Headers.Location = location;
            await HubErrors.WriteBytesAsync(context, Encoding.UTF8.GetBytes($"Found. Redirecting to {location}"), "text/plain; charset=utf-8");
            return;
        }

        response.Headers.ContentDisposition = Disposition("inline", Path.GetFileName(file.Path));
        await ServeBytesAsync(context, site, repo, file, ContentTypeOf(file.Path));
    }

    public static async Task CdnAsync(HttpContext context, HubSite site, string sha256)
    {
        var request = context.Request;
        if (site.Options.CdnRejectsAuthorization && !string.IsNullOrEmpty(request.Headers.Authorization))
        {
            await CdnErrorAsync(context, StatusCodes.Status400BadRequest, "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified");
            return;
        }
        var disposition = request.Query["response-content-disposition"].ToString();
        switch (site.Signer.Verify(sha256, request.Query["Expires"], disposition, request.Query["Signature"]))
        {
            case CdnUrlVerdict.Expired:
                await CdnErrorAsync(context, StatusCodes.Status403Forbidden, "AccessDenied", "Request has expired");
                return;
            case CdnUrlVerdict.BadSignature:
                await CdnErrorAsync(context, StatusCodes.Status403Forbidden, "AccessDenied", "Signature does not match");
                return;
        }
        if (site.Catalog.FindBlob(sha256) is not var (repo, file))
        {
            await CdnErrorAsync(context, StatusCodes.Status404NotFound, "NoSuchKey", "The specified key does not exist.");
            return;
        }
        var response = context.Response;
        response.Headers.ETag = $"\"{sha256}\"";
        response.Headers.AcceptRanges = "bytes";
        response.Headers.LastModified = file.LastWriteUtc.ToString("R", CultureInfo.InvariantCulture);
        if (disposition.Length > 0) response.Headers.ContentDisposition = disposition;
        await ServeBytesAsync(context, site, repo, file, "binary/octet-stream");
    }

    static Task CdnErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        var xml = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>";
        return HubErrors.WriteBytesAsync(context, Encoding.UTF8.GetBytes(xml), "application/xml");
    }

    /// <summary>Answers 200, 206 or 416 for the file and streams the chosen bytes.</summary>
    static async Task ServeBytesAsync(HttpContext context, HubSite site, HubRepo repo, RepoFileEntry file, string contentType)
    {
        var response = context.Response;
        response.Headers.AcceptRanges = "bytes";
        var range = ByteRange.Parse(context.Request.Headers.Range, file.Size);
        if (site.Faults.Current.IgnoreRange && range.Partial)
        {
            range = new ByteRange(0, file.Size, false, false);
            HubSite.Record(context).Fault = "ignore-range";
        }

        if (range.Unsatisfiable)
        {
            response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
            response.Headers.ContentRange = $"bytes */{file.Size}";
            response.ContentLength = 0;
            return;
        }
        if (range.Partial)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = $"bytes {range.Start}-{range.Start + range.Length - 1}/{file.Size}";
        }
        response.ContentType = contentType;
        response.ContentLength = range.Length;
        if (HttpMethods.IsHead(context.Request.Method) || range.Length == 0) return;
        await WriteBodyAsync(context, site, repo, file, range.Start, range.Length);
    }

    static async Task WriteBodyAsync(HttpContext context, HubSite site, HubRepo repo, RepoFileEntry file, long start, long length)
    {
        var record = HubSite.Record(context);
        var cut = site.Faults.TakeCut(repo.Id, file.Path, length);
        var corruption = site.Faults.TakeCorruption(repo.Id, file.Path, start, length);
        if (cut is not null) record.Fault = "cut";
        if (corruption is not null) record.Fault = record.Fault is null ? "corrupt" : record.Fault + ",corrupt";
        long limit = cut?.AfterBytes ?? length;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, site.Stopping);
        var token = stop.Token;
        var localPacer = new BytePacer(site.RealTime);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var body = context.Response.Body;
        long sent = 0;
        try
        {
            using var handle = File.OpenHandle(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.SequentialScan);
            while (sent < limit)
            {
                var (globalRate, connectionRate) = site.Faults.ThrottleRates;
                int chunk = BufferSize;
                if (globalRate is long g) chunk = Math.Min(chunk, BytePacer.ChunkFor(g, BufferSize));
                if (connectionRate is long c) chunk = Math.Min(chunk, BytePacer.ChunkFor(c, BufferSize));
                chunk = (int)Math.Min(chunk, limit - sent);

                long offset = start + sent;
                int read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, chunk), offset, token);
                if (read == 0) throw new IOException($"{file.Path} became shorter while being served");
                if (corruption is not null) Flip(buffer, offset, read, corruption);

                var wait = TimeSpan.Zero;
                if (globalRate is long gr) wait = site.GlobalPacer.Reserve(read, gr);
                if (connectionRate is long cr) wait = TimeSpan.FromTicks(Math.Max(wait.Ticks, localPacer.Reserve(read, cr).Ticks));
                if (wait > TimeSpan.Zero) await Task.Delay(wait, site.RealTime, token);

                await body.WriteAsync(buffer.AsMemory(0, read), token);
                sent += read;
            }
            if (cut is not null)
            {
                // End the response short of its Content-Length: Kestrel then closes the connection once the bytes
                // written so far have gone out, so the client reads exactly them and sees the transfer break
                // ("response ended prematurely"). HttpContext.Abort() would reset the socket and drop whatever is
                // still queued in Kestrel's output, leaving the client an unpredictable prefix.
                await body.FlushAsync(token);
                record.Aborted = true;
                LogCut(site.Logger, repo.Id, file.Path, sent);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && (context.RequestAborted.IsCancellationRequested || site.Stopping.IsCancellationRequested))
        {
            record.Aborted = true;
            LogClientGone(site.Logger, repo.Id, file.Path, sent, e.GetType().Name);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A Content-Disposition in the Hub's form; the plain <c>filename</c> is kept ASCII so any name makes a valid header.</summary>
    static string Disposition(string kind, string fileName)
    {
        var ascii = new string(fileName.Select(c => c is >= ' ' and <= '~' && c != '"' ? c : '_').ToArray());
        return $"{kind}; filename*=UTF-8''{Uri.EscapeDataString(fileName)}; filename=\"{ascii}\";";
    }

    static void Flip(byte[] buffer, long bufferOffset, int count, Corruption corruption)
    {
        long from = Math.Max(bufferOffset, corruption.Offset);
        long to = Math.Min(bufferOffset + count, corruption.Offset + Math.Max(1, corruption.Length));
        for (long at = from; at < to; at++) buffer[at - bufferOffset] ^= 0xFF;
    }

    static string ContentTypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".json" => "application/json; charset=utf-8",
        ".md" or ".txt" or ".jinja" or ".py" or ".yaml" or ".yml" or ".gitattributes" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Cut the connection after {Bytes} bytes of {RepoId}/{Path} (injected fault)")]
    static partial void LogCut(ILogger logger, string repoId, string path, long bytes);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "Client left {RepoId}/{Path} after {Bytes} bytes ({Reason})")]
    static partial void LogClientGone(ILogger logger, string repoId, string path, long bytes, string reason);
}

/// <summary>The byte range a <c>Range</c> header asks for, resolved against a file size. Multiple ranges and
/// malformed headers are ignored (the whole file is served), as RFC 9110 allows.</summary>
internal readonly record struct ByteRange(long Start, long Length, bool Partial, bool Unsatisfiable)
{
    public static ByteRange Parse(string? header, long size)
    {
        var whole = new ByteRange(0, size, false, false);
        if (string.IsNullOrWhiteSpace(header)) return whole;
        header = header.Trim();
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase)) return whole;
        var spec = header[6..].Trim();
        if (spec.Contains(',')) return whole;
        int dash = spec.IndexOf('-');
        if (dash < 0) return whole;
        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        var unsatisfiable = new ByteRange(0, 0, false, true);

        if (first.Length == 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix)) return whole;
            if (suffix == 0 || size == 0) return unsatisfiable;
            long from = Math.Max(0, size - suffix);
            return new ByteRange(from, size - from, true, false);
        }
        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var begin)) return whole;
        long end = size - 1;
        if (last.Length > 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < begin) return whole;
            end = Math.Min(end, size - 1);
        }
        if (begin >= size) return unsatisfiable;
        return new ByteRange(begin, end - begin + 1, true, false);
    }
}
