using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Hosting;

/// <summary>Settings under <c>MlxManager:RateLimits:SignIn</c>.</summary>
public sealed class SignInRateLimitOptions
{
    public const string Section = "MlxManager:RateLimits:SignIn";

    /// <summary>Attempts (login, register, token) allowed per client address in each window.</summary>
    public int PermitLimit { get; set; } = 10;

    /// <summary>Length of the window.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Limits how fast one client address can try passwords or create accounts (on top of the
/// lockout per e-mail and address, <c>SignInLockout</c>). Only POSTs count: showing the login form is free.
/// </summary>
public static class RateLimitsHosting
{
    /// <summary>Policy for login, register and token requests.</summary>
    public const string SignInPolicy = "sign-in";

    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SignInRateLimitOptions>().BindConfiguration(SignInRateLimitOptions.Section);
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(SignInPolicy, context =>
            {
                if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
                {
                    return RateLimitPartition.GetNoLimiter("read");
                }
                var settings = context.RequestServices.GetRequiredService<IOptions<SignInRateLimitOptions>>().Value;
                var client = ClientAddress.Of(context);
                return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = settings.PermitLimit,
                    Window = settings.Window,
                    QueueLimit = 0,
                });
            });
            options.OnRejected = async (rejected, cancellationToken) =>
            {
                var http = rejected.HttpContext;
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                if (http.IsApiRequest())
                {
                    await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = http,
                        ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Title = "Too many attempts. Wait a minute and try again." },
                    });
                }
                // Pages: the empty 429 is rendered by /status/429.
            };
        });
        return builder;
    }
}
