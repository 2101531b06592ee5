using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MlxManager.HubEmulator;

/// <summary>Who is calling, as far as the Hub can tell from the <c>Authorization</c> header.</summary>
internal enum Caller
{
    /// <summary>No token.</summary>
    Anonymous,
    /// <summary>A token other than the configured one: a real user who has not been granted gated access.</summary>
    OtherUser,
    /// <summary>The configured token: access to gated and private repos.</summary>
    Granted,
}

/// <summary>Per-request facts the request log needs from deep inside a handler.</summary>
internal sealed class RequestRecord
{
    public string? Fault { get; set; }
    public bool Aborted { get; set; }
}

/// <summary>Everything one emulated Hub shares between its endpoints.</summary>
internal sealed class HubSite(HubEmulatorOptions options, RepoCatalog catalog, HubFaults faults, RequestLog log, ILogger logger)
{
    public HubEmulatorOptions Options { get; } = options;
    public RepoCatalog Catalog { get; } = catalog;
    public HubFaults Faults { get; } = faults;
    public RequestLog Log { get; } = log;
    public ILogger Logger { get; } = logger;
    public CdnSigner Signer { get; } = new(options.TimeProvider, options.CdnUrlLifetime);

    /// <summary>Real time for pacing and delays, whatever clock signs the CDN URLs.</summary>
    public TimeProvider RealTime { get; } = TimeProvider.System;
    public BytePacer GlobalPacer { get; } = new(TimeProvider.System);

    public int HubPort { get; set; }
    public int CdnPort { get; set; }
    public string CdnBaseUrl => $"http://127.0.0.1:{CdnPort}";

    /// <summary>Cancelled when the emulator stops, so throttled transfers do not hold up shutdown.</summary>
    public CancellationToken Stopping { get; set; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Caller Identify(HttpContext context)
    {
        var token = BearerToken(context);
        if (token is null) return Caller.Anonymous;
        return Options.Token is not null && token == Options.Token ? Caller.Granted : Caller.OtherUser;
    }

    public static string? BearerToken(HttpContext context)
    {
        string? header = context.Request.Headers.Authorization;
        if (string.IsNullOrWhiteSpace(header)) return null;
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : header.Trim();
    }

    public static RequestRecord Record(HttpContext context) =>
        context.Features.Get<RequestRecord>() ?? new RequestRecord();
}

/// <summary>Error answers in the Hub's shape: <c>X-Error-Code</c> and <c>X-Error-Message</c> headers plus a JSON
/// body <c>{"error": "…"}</c> (no body for HEAD).</summary>
internal static class HubErrors
{
    public const string RepoNotFound = "RepoNotFound";
    public const string RevisionNotFound = "RevisionNotFound";
    public const string EntryNotFound = "EntryNotFound";
    public const string GatedRepo = "GatedRepo";

    public static Task WriteAsync(HttpContext context, int status, string? code, string message)
    {
        var response = context.Response;
        response.StatusCode = status;
        if (code is not null) response.Headers["X-Error-Code"] = code;
        // Header values must be ASCII; the JSON body keeps the message as it is.
        response.Headers["X-Error-Message"] = new string(message.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
        return WriteJsonAsync(context, new Dictionary<string, string> { ["error"] = message });
    }

    /// <summary>A missing (or hidden private) repo: 401 to anonymous callers, 404 to signed-in ones, as the Hub does.</summary>
    public static Task RepoNotFoundAsync(HttpContext context, Caller caller) =>
        WriteAsync(context, caller == Caller.Anonymous ? StatusCodes.Status401Unauthorized : StatusCodes.Status404NotFound,
            RepoNotFound, "Repository not found");

    public static Task RevisionNotFoundAsync(HttpContext context, string revision) =>
        WriteAsync(context, StatusCodes.Status404NotFound, RevisionNotFound, $"Invalid rev id: {revision}");

    public static Task BadRequestAsync(HttpContext context, string message) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, null, message);

    public static Task WriteJsonAsync<T>(HttpContext context, T value)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, HubSite.Json);
        return WriteBytesAsync(context, bytes, "application/json; charset=utf-8");
    }

    public static async Task WriteBytesAsync(HttpContext context, byte[] bytes, string contentType)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = bytes.Length;
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }
}
