namespace MlxManager.Core.Gateway;

/// <summary>
/// A request the gateway answers with an error in OpenAI's shape, <c>{"error":{"message","type","code","param"}}</c>,
/// and <see cref="Status"/>. Thrown by the router, the admission and the starter; written by the endpoint.
/// </summary>
public sealed class GatewayException(int status, string type, string code, string message, string? param = null) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>OpenAI's error type, e.g. <c>invalid_request_error</c>.</summary>
    public string Type { get; } = type;

    /// <summary>A stable code clients can test, e.g. <c>model_not_found</c>.</summary>
    public string Code { get; } = code;

    /// <summary>The request field at fault, when there is one.</summary>
    public string? Param { get; } = param;

    /// <summary>Seconds a client should wait before trying again (429), when it makes sense.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>True when the user's quota (tokens per day or concurrent requests) refused the request.</summary>
    public bool IsQuotaRefusal => Code is DailyQuotaCode or ConcurrencyLimitCode;

    public const string DailyQuotaCode = "insufficient_quota";

    public const string ConcurrencyLimitCode = "concurrency_limit_exceeded";

    public static GatewayException BadRequest(string message, string? param = null) =>
        new(400, "invalid_request_error", "invalid_request", message, param);

    public static GatewayException ModelNotFound(string model, string hint) =>
        new(404, "invalid_request_error", "model_not_found", $"The model \"{model}\" does not exist. {hint}", "model");

    public static GatewayException ModelNotRunning(string profile) =>
        new(409, "invalid_request_error", "model_not_running",
            $"The model \"{profile}\" is not running and its profile does not start on demand. Ask an administrator to start it.", "model");

    public static GatewayException QueueFull(string profile, int queued) =>
        new(429, "rate_limit_error", "queue_full", $"\"{profile}\" already has {queued} requests waiting; try again shortly.")
        {
            RetryAfterSeconds = 1,
        };

    /// <summary>The user's daily tokens are used up until <paramref name="retryAfter"/> from now (the next UTC midnight).</summary>
    public static GatewayException DailyQuotaExceeded(string message, TimeSpan retryAfter) =>
        new(429, "insufficient_quota", DailyQuotaCode, message) { RetryAfterSeconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) };

    /// <summary>The user already has as many requests running as they may.</summary>
    public static GatewayException ConcurrencyLimitExceeded(string message) =>
        new(429, "rate_limit_error", ConcurrencyLimitCode, message) { RetryAfterSeconds = 1 };

    /// <summary>An engine's error answer, with its status and its message (whatever shape the engine wrote it in).</summary>
    public static GatewayException FromEngine(int status, byte[] body)
    {
        var message = Chat.ErrorMessageReader.Read(body) ?? Chat.ErrorMessageReader.DescribeRaw(body);
        return new GatewayException(status, status < 500 ? "invalid_request_error" : "server_error", "engine_error",
            string.IsNullOrWhiteSpace(message) ? $"The engine answered {status}." : message);
    }
}
