using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using MlxManager.Core.Chat;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace MlxManager.Core.Tests.Chat.Tools;

public class BuiltInChatToolsTests
{
    [Fact]
    public async Task ListTools_OverMcp_OffersCalculateAndGetWeatherWithSchemas()
    {
        await using var server = await InProcessMcpServer.StartAsync();

        var tools = await server.Client.ListToolsAsync(cancellationToken: TestTimeout.Token);

        tools.Select(t => t.Name).Order().ShouldBe(["calculate", "get_weather"]);
        var weather = tools.Single(t => t.Name == "get_weather");
        weather.Description.ShouldContain("mock");
        var properties = weather.JsonSchema.GetProperty("properties");
        properties.GetProperty("location").GetProperty("type").GetString().ShouldBe("string");
        properties.TryGetProperty("unit", out _).ShouldBeTrue();
        weather.JsonSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()).ShouldBe(["location"]);
        tools.Single(t => t.Name == "calculate").JsonSchema.GetProperty("required")[0].GetString().ShouldBe("expression");
    }

    [Fact]
    public async Task Calculate_OverMcp_ReturnsTheNumber()
    {
        await using var server = await InProcessMcpServer.StartAsync();

        var result = await server.Client.CallToolAsync("calculate", new Dictionary<string, object?> { ["expression"] = "17 * 23 + 2^3" }, cancellationToken: TestTimeout.Token);

        (result.IsError ?? false).ShouldBeFalse();
        result.Content.OfType<TextContentBlock>().ShouldHaveSingleItem().Text.ShouldBe("399");
    }

    [Theory]
    [InlineData("1 / 0", "Division by zero")]
    [InlineData("2 +* 3", "Unexpected '*' (at position 4)")]
    [InlineData("os.system(1)", "Unknown name 'os'")]
    public async Task Calculate_BadInput_IsAnMcpToolErrorWithTheReason(string expression, string reason)
    {
        await using var server = await InProcessMcpServer.StartAsync();

        var result = await server.Client.CallToolAsync("calculate", new Dictionary<string, object?> { ["expression"] = expression }, cancellationToken: TestTimeout.Token);

        result.IsError.ShouldBe(true);
        result.Content.OfType<TextContentBlock>().ShouldHaveSingleItem().Text.ShouldContain(reason);
    }

    [Fact]
    public async Task GetWeather_OverMcp_ReturnsTheDeterministicReportAsJson()
    {
        await using var server = await InProcessMcpServer.StartAsync();

        var result = await server.Client.CallToolAsync("get_weather", new Dictionary<string, object?> { ["location"] = "Paris", ["unit"] = "fahrenheit" }, cancellationToken: TestTimeout.Token);

        (result.IsError ?? false).ShouldBeFalse();
        using var json = JsonDocument.Parse(result.Content.OfType<TextContentBlock>().First().Text);
        var expected = new MlxManager.Core.Chat.Tools.MockWeatherStation().Report("Paris", "fahrenheit");
        json.RootElement.GetProperty("location").GetString().ShouldBe("Paris");
        json.RootElement.GetProperty("unit").GetString().ShouldBe("fahrenheit");
        json.RootElement.GetProperty("temperature").GetDouble().ShouldBe(expected.Temperature);
        json.RootElement.GetProperty("condition").GetString().ShouldBe(expected.Condition);
    }

    [Fact]
    public async Task GetWeather_BadUnit_IsAnMcpToolErrorNamingTheAllowedUnits()
    {
        await using var server = await InProcessMcpServer.StartAsync();

        var result = await server.Client.CallToolAsync("get_weather", new Dictionary<string, object?> { ["location"] = "Paris", ["unit"] = "kelvin" }, cancellationToken: TestTimeout.Token);

        result.IsError.ShouldBe(true);
        var text = result.Content.OfType<TextContentBlock>().ShouldHaveSingleItem().Text;
        text.ShouldEndWith("Unknown unit 'kelvin'. Use \"celsius\" or \"fahrenheit\".");
    }

    [Fact]
    public async Task McpToolExecutor_ListsAndRunsTools_AndReportsErrorsAsResults()
    {
        await using var server = await InProcessMcpServer.StartAsync();
        var executor = new McpToolExecutor([server.Client], NullLogger<McpToolExecutor>.Instance);

        var definitions = await executor.ListToolsAsync(TestTimeout.Token);
        var ok = await executor.ExecuteAsync(new ToolCall("c1", "calculate", """{"expression":"sqrt(144)"}"""), TestTimeout.Token);
        var toolError = await executor.ExecuteAsync(new ToolCall("c2", "calculate", """{"expression":"5/0"}"""), TestTimeout.Token);
        var unknown = await executor.ExecuteAsync(new ToolCall("c3", "rm_rf", "{}"), TestTimeout.Token);
        var badJson = await executor.ExecuteAsync(new ToolCall("c4", "calculate", "{oops"), TestTimeout.Token);

        definitions.Select(d => d.Name).Order().ShouldBe(["calculate", "get_weather"]);
        definitions.ShouldAllBe(d => d.Parameters != null);
        ok.ShouldBe(ToolExecutionResult.Success("12"));
        toolError.IsError.ShouldBeTrue();
        toolError.Content.ShouldContain("Division by zero");
        unknown.IsError.ShouldBeTrue();
        unknown.Content.ShouldContain("no tool named 'rm_rf'");
        badJson.IsError.ShouldBeTrue();
    }
}
