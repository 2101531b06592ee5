using Microsoft.AspNetCore.Diagnostics;

namespace MlxManager.Web.Hosting;

/// <summary>
/// One way errors reach people: pages get a friendly page (<c>/error</c>, <c>/status/{code}</c>),
/// <c>/api/*</c> gets RFC 9457 problem details. Every response carries <c>X-Correlation-Id</c>, which
/// is also in the problem details, on the error page and in the log line of an unhandled exception.
/// </summary>
public static partial class ErrorHosting
{
    /// <summary>Response header carrying the request's correlation id.</summary>
    public const string CorrelationHeader = "X-Correlation-Id";

    /// <summary>Problem-details extension carrying the correlation id.</summary>
    public const string CorrelationExtension = "correlationId";

    public static WebApplicationBuilder AddErrorHandling(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions[CorrelationExtension] = context.HttpContext.TraceIdentifier);
        builder.Services.AddExceptionHandler<UnhandledExceptionHandler>();
        return builder;
    }

    public static WebApplication UseErrorHandling(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            // OnStarting: the exception handler clears headers set earlier.
            context.Response.OnStarting(() =>
            {
                context.Response.Headers[CorrelationHeader] = context.TraceIdentifier;
                return Task.CompletedTask;
            });
            return next(context);
        });
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandlingPath = "/error",
            // A malformed request is the client's fault: 400, never 500.
            StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseWhen(context => !context.IsApiRequest(), pages => pages.UseStatusCodePagesWithReExecute("/status/{0}"));
        app.UseWhen(context => context.IsApiRequest(), api => api.UseStatusCodePages());
        return app;
    }

    /// <summary>True for <c>/api/*</c>, which answers in JSON (problem details) rather than HTML.</summary>
    public static bool IsApiRequest(this HttpContext context) => context.Request.Path.StartsWithSegments("/api");

    /// <summary>Logs every unhandled exception with its correlation id; answers problem details for the API.</summary>
    private sealed partial class UnhandledExceptionHandler(IProblemDetailsService problemDetails, ILogger<UnhandledExceptionHandler> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            // The middleware has already pointed Request.Path at /error; the feature keeps the original.
            var path = httpContext.Features.Get<IExceptionHandlerPathFeature>()?.Path ?? httpContext.Request.Path.Value ?? "";
            var status = exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;
            if (status >= 500)
            {
                LogUnhandled(exception, httpContext.Request.Method, path, httpContext.TraceIdentifier);
            }
            else
            {
                LogBadRequest(httpContext.Request.Method, path, httpContext.TraceIdentifier, exception.Message);
            }

            if (!new PathString(path).StartsWithSegments("/api"))
            {
                return false; // the middleware re-executes /error, which shows the correlation id
            }

            httpContext.Response.StatusCode = status;
            return await problemDetails.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                Exception = exception,
                ProblemDetails =
                {
                    Status = status,
                    Title = status >= 500 ? "Something went wrong on the server." : "The request could not be read.",
                    Detail = status >= 500 ? $"Quote correlation id {httpContext.TraceIdentifier} when reporting this." : exception.Message,
                },
            });
        }

        [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path} (correlation id {CorrelationId})")]
        private partial void LogUnhandled(Exception exception, string method, string path, string correlationId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Bad request {Method} {Path} (correlation id {CorrelationId}): {Reason}")]
        private partial void LogBadRequest(string method, string path, string correlationId, string reason);
    }
}
