using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using MlxManager.ModelFixtures;

namespace MlxManager.Tools.Tests.HubEmulator;

/// <summary>The command line an offline demo uses: <c>HubEmulator --root … --port … --seed</c> as a real process.</summary>
public sealed partial class HubEmulatorCliTests : IDisposable
{
    readonly string root = Path.Combine(Directory.CreateTempSubdirectory("hubemu-cli-").FullName, "hub");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(root)!, recursive: true);

    static ProcessStartInfo Emulator(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MlxManager.HubEmulator.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return start;
    }

    [Fact]
    public async Task Seed_WritesTheCatalogueAndServesItOnTheGivenRoot()
    {
        using var process = Process.Start(Emulator("--root", root, "--port", "0", "--seed", "--token", "demo-token"))!;
        try
        {
            string? baseUrl = null;
            var lines = new List<string>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (baseUrl is null && await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                lines.Add(line);
                if (BaseUrlLine().Match(line) is { Success: true } match) baseUrl = match.Groups[1].Value;
            }
            if (baseUrl is null)
            {
                process.Kill(entireProcessTree: true);
                throw new ShouldAssertException($"no base URL printed:\n{string.Join('\n', lines)}\n{await process.StandardError.ReadToEndAsync()}");
            }
            lines.Count(l => l.StartsWith("seeded ")).ShouldBe(FixtureCatalog.Small.Count);

            using var client = Http.NewClient();
            var (response, body) = await client.GetJsonAsync($"{baseUrl}/api/models?filter=mlx");
            var gated = await client.SendAsync(HttpMethod.Head, $"{baseUrl}/{FixtureCatalog.Gated.RepoId}/resolve/main/config.json", "demo-token");

            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            body.AsArray().Count.ShouldBe(FixtureCatalog.Small.Count);
            gated.StatusCode.ShouldBe(HttpStatusCode.OK);
            Directory.Exists(Path.Combine(root, "mlx-community", "Qwen3-4B-4bit")).ShouldBeTrue();
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task UnknownArgument_ExitsWithUsage()
    {
        using var process = Process.Start(Emulator("--root", root, "--frobnicate"))!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        process.ExitCode.ShouldBe(2);
        error.ShouldContain("unknown argument '--frobnicate'");
        error.ShouldContain("usage:");
    }

    [GeneratedRegex(@"^Hub emulator: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex BaseUrlLine();
}
