using System.Globalization;
using System.Text.Json;
using CliWrap;
using CliWrap.Buffered;

namespace MlxManager.Web.Tests.Metrics;

/// <summary>One sample as Prometheus reads it: its series name, labels and value.</summary>
public sealed record PrometheusSample(string Family, string Type, string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(string label, string value) => Labels.TryGetValue(label, out var actual) && actual == value;
}

/// <summary>
/// Parses a scrape with the Prometheus project's own Python client parser (<c>prometheus_client.parser</c>, Debian's
/// python3-prometheus-client): no maintained .NET parser restores here and prometheus-net only writes the format. A
/// body the parser rejects fails the test with the parser's message.
/// </summary>
public static class PrometheusText
{
    public const string Python = "/usr/bin/python3";

    /// <summary>The file the tests need; <c>[LinuxFact(PrometheusText.Parser)]</c> skips with a reason without it.</summary>
    public const string Parser = "/usr/lib/python3/dist-packages/prometheus_client/parser.py";

    private const string Script = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        out = []
        for family in text_string_to_metric_families(sys.stdin.read()):
            for s in family.samples:
                out.append({"family": family.name, "type": family.type, "name": s.name, "labels": s.labels, "value": repr(float(s.value))})
        json.dump(out, sys.stdout)
        """;

    public static async Task<IReadOnlyList<PrometheusSample>> ParseAsync(string exposition)
    {
        var result = await Cli.Wrap(Python).WithArguments(["-c", Script])
            .WithStandardInputPipe(PipeSource.FromString(exposition))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();
        result.ExitCode.ShouldBe(0, $"the Prometheus parser rejected the scrape: {result.StandardError}\n{exposition}");
        using var json = JsonDocument.Parse(result.StandardOutput);
        return [.. json.RootElement.EnumerateArray().Select(sample => new PrometheusSample(
            sample.GetProperty("family").GetString()!,
            sample.GetProperty("type").GetString()!,
            sample.GetProperty("name").GetString()!,
            sample.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            double.Parse(sample.GetProperty("value").GetString()!, CultureInfo.InvariantCulture)))];
    }
}
