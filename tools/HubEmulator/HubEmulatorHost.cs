using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MlxManager.HubEmulator;

/// <summary>A running Hugging Face Hub stand-in on 127.0.0.1: real Kestrel, two listeners (the Hub and its CDN),
/// serving the repos of <see cref="HubEmulatorOptions.Root"/>. Point a client at it with
/// <c>HF_ENDPOINT=<see cref="BaseUrl"/></c>. Dispose to stop it.</summary>
public sealed partial class HubEmulatorHost : IAsyncDisposable
{
    readonly WebApplication app;
    readonly HubSite site;
    int disposed;

    HubEmulatorHost(WebApplication app, HubSite site)
    {
        this.app = app;
        this.site = site;
    }

    /// <summary>The Hub endpoint, e.g. <c>http://127.0.0.1:41234</c> (no trailing slash): the value for <c>HF_ENDPOINT</c>.</summary>
    public string BaseUrl => $"http://127.0.0.1:{site.HubPort}";

    /// <summary>The CDN origin LFS redirects point to (a different port, so a different host to clients).</summary>
    public string CdnBaseUrl => site.CdnBaseUrl;

    public int Port => site.HubPort;
    public int CdnPort => site.CdnPort;
    public HubEmulatorOptions Options => site.Options;

    /// <summary>The faults to inject; change them at any time.</summary>
    public HubFaults Faults => site.Faults;

    /// <summary>What the emulator answered so far.</summary>
    public RequestLog Requests => site.Log;

    /// <summary>The commit id the emulator reports for a repo (<c>X-Repo-Commit</c>, <c>sha</c>), or null if there is no such repo.</summary>
    public string? CommitOf(string repoId) => site.Catalog.Find(repoId)?.Identity.Commit;

    /// <summary>Hashes every file now rather than on the first request that needs it.</summary>
    public void Warm()
    {
        foreach (var repo in site.Catalog.All()) _ = repo.Identity;
    }

    /// <summary>Starts an emulator and returns once both listeners accept connections.</summary>
    public static async Task<HubEmulatorHost> StartAsync(HubEmulatorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Directory.Exists(options.Root)) throw new DirectoryNotFoundException($"Hub root '{options.Root}' does not exist");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(HubEmulatorHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
            Args = [],
        });
        builder.Logging.ClearProviders();
        if (options.LogToConsole)
        {
            builder.Logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
            });
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            // Kestrel reports every injected cut as an application error; our own line already says what happened.
            builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Critical);
        }
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(3));

        ListenOptions? hubListener = null, cdnListener = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, options.Port, listen => hubListener = listen);
            kestrel.Listen(IPAddress.Loopback, options.CdnPort, listen => cdnListener = listen);
        });

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("HubEmulator");
        var catalog = new RepoCatalog(options.Root, options.RenamedRepos, logger);
        var site = new HubSite(options, catalog, new HubFaults(options.Faults), new RequestLog(options.RequestLogCapacity), logger)
        {
            Stopping = app.Lifetime.ApplicationStopping,
        };
        Compose(app, site);

        await app.StartAsync(cancellationToken);
        site.HubPort = hubListener!.IPEndPoint!.Port;
        site.CdnPort = cdnListener!.IPEndPoint!.Port;
        LogStarted(logger, $"http://127.0.0.1:{site.HubPort}", site.CdnBaseUrl, catalog.Root);
        return new HubEmulatorHost(app, site);
    }

    /// <summary>Completes when the emulator stops (Ctrl+C in the CLI, or <see cref="DisposeAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1) return;
        await app.StopAsync();
        await app.DisposeAsync();
    }

    static void Compose(WebApplication app, HubSite site)
    {
        app.Use(async (context, next) =>
        {
            bool cdn = context.Connection.LocalPort == site.CdnPort && site.CdnPort != 0;
            var path = context.Request.Path.Value ?? "/";
            bool control = path.StartsWith("/_emulator/", StringComparison.Ordinal);
            // Each listener serves only its own paths, as two separate hosts would.
            if (cdn != path.StartsWith("/cdn/", StringComparison.Ordinal) || (cdn && control))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            if (control)
            {
                await next(context);
                return;
            }
            await ServeRecordedAsync(context, next, site, cdn ? Listeners.Cdn : Listeners.Hub, path);
        });

        app.MapGet("/api/models", (HttpContext c) => ModelApi.SearchAsync(c, site));
        app.MapGet("/api/models/{org}/{name}", (HttpContext c, string org, string name) => ModelApi.InfoAsync(c, site, org, name, null));
        app.MapGet("/api/models/{org}/{name}/revision/{revision}", (HttpContext c, string org, string name, string revision) =>
            ModelApi.InfoAsync(c, site, org, name, Slashes(revision)));
        app.MapGet("/api/models/{org}/{name}/tree/{revision}/{**path}", (HttpContext c, string org, string name, string revision, string? path) =>
            ModelApi.TreeAsync(c, site, org, name, Slashes(revision), path is null ? null : Slashes(path)));
        app.MapPost("/api/models/{org}/{name}/paths-info/{revision}", (HttpContext c, string org, string name, string revision) =>
            ModelApi.PathsInfoAsync(c, site, org, name, Slashes(revision)));
        app.MapMethods("/{org}/{name}/resolve/{revision}/{**path}", [HttpMethods.Get, HttpMethods.Head],
            (HttpContext c, string org, string name, string revision, string path) =>
                FileEndpoints.ResolveAsync(c, site, org, name, Slashes(revision), Slashes(path)));
        app.MapMethods("/cdn/repos/{sha256}", [HttpMethods.Get, HttpMethods.Head], (HttpContext c, string sha256) => FileEndpoints.CdnAsync(c, site, sha256));
        ControlApi.Map(app, site);
        app.MapFallback((HttpContext c) => HubErrors.WriteAsync(c, StatusCodes.Status404NotFound, null, "Sorry, we can't find the page you are looking for."));
    }

    /// <summary>Kestrel decodes every escape in the path except <c>%2F</c>; clients quote revisions (and
    /// huggingface_hub quotes tree paths) with <c>safe=""</c>, so <c>refs%2Fpr%2F1</c> must still mean <c>refs/pr/1</c>.</summary>
    static string Slashes(string value) => value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs one Hub or CDN request with the injected faults and records it in the request log.</summary>
    static async Task ServeRecordedAsync(HttpContext context, RequestDelegate next, HubSite site, string listener, string path)
    {
        var started = Stopwatch.GetTimestamp();
        var sequence = site.Log.NextSequence();
        var record = new RequestRecord();
        context.Features.Set(record);
        RecordedRequest Entry(long bytesSent) => new(sequence, site.Options.TimeProvider.GetUtcNow(), listener, context.Request.Method, path,
            context.Request.QueryString.Value ?? "", context.Request.Headers.Range.ToString() is { Length: > 0 } range ? range : null,
            !string.IsNullOrEmpty(context.Request.Headers.Authorization), context.Response.StatusCode, bytesSent,
            record.Aborted, record.Fault, Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        // A body's last write can reach the client before this method resumes, so the entry goes into the log just
        // before that write; a response without a body is only sent after this method returns.
        RecordedRequest? early = null;
        var originalBody = context.Response.Body;
        var counter = new CountingStream(originalBody, () => context.Response.ContentLength, total =>
        {
            early = Entry(total);
            site.Log.Add(early);
        });
        context.Response.Body = counter;
        if (listener == Listeners.Hub) context.Response.Headers["X-Request-Id"] = $"Root=1-emulator-{sequence:x8}";
        try
        {
            if (listener == Listeners.Hub && site.Options.RejectUnknownTokens && HubSite.BearerToken(context) is { } token && token != site.Options.Token)
            {
                await HubErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, null, "Invalid credentials in Authorization header");
                return;
            }
            var delay = site.Faults.TakeDelay(path);
            if (delay > TimeSpan.Zero)
            {
                record.Fault = "delay";
                await Task.Delay(delay, site.RealTime, context.RequestAborted);
            }
            if (site.Faults.TakeFailure(path) is { } failure)
            {
                record.Fault = "status";
                if (failure.Status is 429 or 503 || failure.RetryAfterSeconds is not null)
                    context.Response.Headers.RetryAfter = (failure.RetryAfterSeconds ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                var message = failure.Status == 429 ? "Too Many Requests (injected fault)" : $"Injected fault: HTTP {failure.Status}";
                await HubErrors.WriteAsync(context, failure.Status, null, message);
                return;
            }
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            record.Aborted = true;
        }
        finally
        {
            context.Response.Body = originalBody;
            var entry = Entry(counter.Written);
            if (early is null) site.Log.Add(entry);
            else if (entry.Aborted || entry.BytesSent != early.BytesSent) site.Log.Replace(entry);
            else entry = early with { DurationMs = entry.DurationMs };
            // CDN queries are long signatures; the path names the blob well enough.
            LogRequest(site.Logger, listener, entry.Method, listener == Listeners.Cdn ? path : path + entry.Query, entry.Status, entry.BytesSent, entry.DurationMs,
                entry.Range is null ? "" : $" range={entry.Range}", entry.Fault is null ? "" : $" fault={entry.Fault}", entry.Aborted ? " aborted" : "");
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Hub emulator on {HubUrl} (CDN {CdnUrl}) serving {Root}")]
    static partial void LogStarted(ILogger logger, string hubUrl, string cdnUrl, string root);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "{Listener} {Method} {Path} -> {Status} {Bytes} B {Milliseconds:F0} ms{Range}{Fault}{Aborted}")]
    static partial void LogRequest(ILogger logger, string listener, string method, string path, int status, long bytes, double milliseconds, string range, string fault, string aborted);
}
