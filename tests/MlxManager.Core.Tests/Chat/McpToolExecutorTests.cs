using System.ComponentModel;
using Microsoft.Extensions.Logging.Abstractions;
using MlxManager.Core.Chat;
using ModelContextProtocol.Server;

namespace MlxManager.Core.Tests.Chat;

/// <summary>A tool server whose one tool takes as long as it is told to.</summary>
[McpServerToolType]
public sealed class SlowTools
{
    [McpServerTool(Name = "sleep"), Description("Waits, then says so.")]
    public static async Task<string> Sleep([Description("Milliseconds to wait.")] int milliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(milliseconds, cancellationToken);
        return $"slept {milliseconds} ms";
    }
}

public class McpToolExecutorTests
{
    [Fact]
    public async Task ACallSlowerThanTheToolTimeout_IsAbandoned_AndReportedToTheModelAsFailed()
    {
        await using var mcp = await InProcessMcpServer.StartAsync<SlowTools>();
        var executor = new McpToolExecutor([mcp.Client], NullLogger<McpToolExecutor>.Instance, TimeSpan.FromMilliseconds(300));
        (await executor.ListToolsAsync(default)).Select(t => t.Name).ShouldBe(["sleep"]);

        var result = await executor.ExecuteAsync(new ToolCall("call-1", "sleep", """{"milliseconds": 60000}"""), default).AsTask()
            .WaitAsync(TimeSpan.FromSeconds(20));

        result.IsError.ShouldBeTrue();
        result.Content.ShouldBe("The tool 'sleep' did not answer within 300 ms.");
    }

    [Fact]
    public async Task ACallWithinTheToolTimeout_Answers()
    {
        await using var mcp = await InProcessMcpServer.StartAsync<SlowTools>();
        var executor = new McpToolExecutor([mcp.Client], NullLogger<McpToolExecutor>.Instance, TimeSpan.FromSeconds(20));
        await executor.ListToolsAsync(default);

        var result = await executor.ExecuteAsync(new ToolCall("call-1", "sleep", """{"milliseconds": 10}"""), default);

        result.IsError.ShouldBeFalse(result.Content);
        result.Content.ShouldContain("slept 10 ms");
    }
}
