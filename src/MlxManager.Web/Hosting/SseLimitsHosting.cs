using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Hosting;

/// <summary>Settings under <c>MlxManager:Web</c>.</summary>
public sealed class WebOptions
{
    public const string Section = "MlxManager:Web";

    /// <summary>Server-sent event streams one account may hold open at once (all tabs, all SSE endpoints).</summary>
    public int MaxSseConnectionsPerUser { get; set; } = 16;
}

/// <summary>
/// A cap on the server-sent event streams each account holds open: every stream pins a connection and a loop until the
/// tab closes, so one user (or a script with their session) must not be able to open them without end. Endpoints opt
/// in with <see cref="LimitSseConnections{TBuilder}"/>; a stream over the cap gets 429 problem details (EventSource does
/// not retry after it).
/// </summary>
public static class SseLimitsHosting
{
    public static WebApplicationBuilder AddSseLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebOptions>().BindConfiguration(WebOptions.Section)
            .Validate(options => options.MaxSseConnectionsPerUser > 0, $"{WebOptions.Section}:MaxSseConnectionsPerUser must be at least 1.")
            .ValidateOnStart();
        builder.Services.AddSingleton<SseConnections>();
        return builder;
    }

    /// <summary>After authorization (the account is known): counts the streams of endpoints marked as SSE.</summary>
    public static WebApplication UseSseLimits(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var userId = context.GetEndpoint()?.Metadata.GetMetadata<SseStreamMetadata>() is null ? null : AccountClaims.UserId(context.User);
            if (userId is null)
            {
                await next(context);
                return;
            }

            var connections = context.RequestServices.GetRequiredService<SseConnections>();
            if (!connections.TryOpen(userId, out var limit))
            {
                await TooManyAsync(context, limit);
                return;
            }
            try
            {
                await next(context);
            }
            finally
            {
                connections.Close(userId);
            }
        });
        return app;
    }

    /// <summary>Marks an endpoint as a server-sent event stream counted against <see cref="WebOptions.MaxSseConnectionsPerUser"/>.</summary>
    public static TBuilder LimitSseConnections<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new SseStreamMetadata());

    // Written directly: IProblemDetailsService skips a request that accepts only text/event-stream, as EventSource's do.
    private static Task TooManyAsync(HttpContext context, int limit) =>
        TypedResults.Problem(
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many live connections.",
                detail: $"Your account already has {limit} live update streams open. Close some tabs of MLX Manager and reload this one.")
            .ExecuteAsync(context);

    private sealed class SseStreamMetadata;
}

/// <summary>Open SSE streams per account.</summary>
public sealed class SseConnections(IOptions<WebOptions> options)
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    /// <summary>Takes a slot for <paramref name="userId"/>; false (and the cap) when all are taken.</summary>
    public bool TryOpen(string userId, out int limit)
    {
        limit = options.Value.MaxSseConnectionsPerUser;
        while (true)
        {
            var current = _open.GetOrAdd(userId, 0);
            if (current >= limit)
            {
                return false;
            }
            if (_open.TryUpdate(userId, current + 1, current))
            {
                return true;
            }
        }
    }

    public void Close(string userId) => _open.AddOrUpdate(userId, 0, (_, current) => Math.Max(0, current - 1));
}
