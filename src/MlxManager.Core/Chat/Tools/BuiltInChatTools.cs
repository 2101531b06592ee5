using System.ComponentModel;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace MlxManager.Core.Chat.Tools;

/// <summary>
/// The two tools the manager's own MCP server offers. Host them with
/// <c>services.AddMcpServer().WithHttpTransport().WithTools&lt;BuiltInChatTools&gt;()</c>. Bad input is answered as
/// an MCP tool error (<c>isError: true</c> with the reason), never as a crash.
/// </summary>
[McpServerToolType]
public sealed partial class BuiltInChatTools
{
    private readonly ArithmeticEvaluator _evaluator = new();
    private readonly MockWeatherStation _weather = new();
    private readonly ILogger<BuiltInChatTools> _logger;

    /// <summary>Creates the tools (the MCP server creates one per call through DI).</summary>
    public BuiltInChatTools(ILogger<BuiltInChatTools> logger)
    {
        _logger = logger;
    }

    /// <summary>Evaluates an arithmetic expression.</summary>
    [McpServerTool(Name = "calculate", Title = "Calculator", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Evaluates an arithmetic expression exactly and returns the number. Supports + - * / % ^ (power), "
        + "parentheses, constants pi and e, and sqrt, abs, round(x, digits), floor, ceil, min, max, pow, sin, cos, tan "
        + "(radians), asin, acos, atan, log (base 10, or log(x, base)), ln, log2, exp. Use it for any arithmetic.")]
    public string Calculate(
        [Description("The expression, e.g. \"(3 + 4) * 2^10 / sqrt(2)\".")] string expression)
    {
        try
        {
            return ArithmeticEvaluator.Format(_evaluator.Evaluate(expression));
        }
        catch (ArithmeticExpressionException ex)
        {
            LogRefused(_logger, "calculate", ex.Message);
            throw new McpException(ex.Message, ex);
        }
    }

    /// <summary>Reports mock weather.</summary>
    [McpServerTool(Name = "get_weather", Title = "Weather (mock)", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Gets the current weather for a location. The data is a deterministic mock for testing: the same "
        + "location always returns the same weather.")]
    public WeatherReport GetWeather(
        [Description("City or place name, e.g. \"Paris\" or \"San Francisco, CA\".")] string location,
        [Description("Temperature unit: \"celsius\" (default) or \"fahrenheit\".")] string unit = "celsius")
    {
        try
        {
            return _weather.Report(location, unit);
        }
        catch (ArgumentException ex)
        {
            LogRefused(_logger, "get_weather", ex.Message);
            throw new McpException(StripParameterSuffix(ex), ex);
        }
    }

    // ArgumentException appends " (Parameter 'x')" to its message; the model needs only the sentence.
    private static string StripParameterSuffix(ArgumentException ex) =>
        ex.ParamName is { } name ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool {Tool} refused its input: {Reason}")]
    private static partial void LogRefused(ILogger logger, string tool, string reason);
}
