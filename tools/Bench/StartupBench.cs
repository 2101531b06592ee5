using System.Diagnostics;
using System.Globalization;
using System.Net.Http;

namespace MlxManager.Bench;

/// <summary>
/// <c>startup</c>: the time from starting the built manager (its dll as a child process, a fresh data folder each
/// time) to its first answered <c>/login</c>, with an HF cache of N models (500) against an empty cache, runs
/// interleaved. The data folder is new every run, so each start also creates and migrates both databases.
/// </summary>
public static class StartupBench
{
    private const double TargetSeconds = 2;

    public static async Task<int> RunAsync(string[] args)
    {
        var models = Option(args, "--models", 500);
        var runs = Option(args, "--runs", 5);
        var root = Directory.CreateTempSubdirectory("mlxm-bench-startup-").FullName;
        try
        {
            var full = Path.Combine(root, "cache-full");
            var empty = Directory.CreateDirectory(Path.Combine(root, "cache-empty")).FullName;
            ModelsBenchmark.WriteCache(full, ModelsBenchmark.StageBlobs(Path.Combine(root, "staging")), models);
            Console.WriteLine($"startup: the manager's dll from process start to the first 200 on /login; {models} cached models vs none; {runs} runs each, interleaved, after one warm-up; {Environment.ProcessorCount} cores");
            await TimeStartAsync(root, "warm-up", full); // first start pays for the OS file cache
            var withModels = new List<double>();
            var withoutModels = new List<double>();
            var cpu = new List<double>();
            for (var run = 0; run < runs; run++)
            {
                var (seconds, cpuSeconds) = await TimeStartAsync(root, $"full-{run}", full);
                withModels.Add(seconds);
                cpu.Add(cpuSeconds);
                withoutModels.Add((await TimeStartAsync(root, $"empty-{run}", empty)).Seconds);
            }

            var median = Median(withModels);
            var baseline = Median(withoutModels);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {models} models: median {median:0.000} s (min {withModels.Min():0.000}, max {withModels.Max():0.000})"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  no models:  median {baseline:0.000} s (min {withoutModels.Min():0.000}, max {withoutModels.Max():0.000})"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ratio ×{median / baseline:0.00}; target: < {TargetSeconds} s with {models} models"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  CPU of the manager per run with {models} models (start, first answer, stop): median {Median(cpu):0.00} s on {Environment.ProcessorCount} cores"));
            Console.WriteLine(median < TargetSeconds ? "targets met" : string.Create(CultureInfo.InvariantCulture, $"targets missed: start-up < {TargetSeconds} s with {models} models ({median:0.000} s)"));
            return median < TargetSeconds ? 0 : 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Seconds from <see cref="Process.Start()"/> to the first successful GET /login, and the CPU seconds the manager used
    /// in all (it is stopped after; getrusage of the ended children).
    /// </summary>
    private static async Task<(double Seconds, double CpuSeconds)> TimeStartAsync(string root, string name, string cache)
    {
        var cpuBefore = DownloadsBench.ChildrenCpuSeconds();
        var folder = Directory.CreateDirectory(Path.Combine(root, name)).FullName;
        var port = ServersBench.FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
        var clock = Stopwatch.StartNew();
        using var manager = ServersBench.StartManager(folder, Path.Combine(folder, "no-engines"), cache, port);
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                if (manager.HasExited)
                {
                    throw new InvalidOperationException($"The manager exited with {manager.ExitCode}.");
                }

                try
                {
                    using var response = await http.GetAsync("login");
                    if (response.IsSuccessStatusCode)
                    {
                        var seconds = clock.Elapsed.TotalSeconds;
                        Stop(manager);
                        return (seconds, DownloadsBench.ChildrenCpuSeconds() - cpuBefore);
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                await Task.Delay(10);
            }

            throw new TimeoutException("The manager did not answer /login within 60 s.");
        }
        finally
        {
            Stop(manager);
        }
    }

    private static void Stop(Process manager)
    {
        if (manager.HasExited)
        {
            return;
        }

        ServersBench.Signal(manager.Id, 15);
        if (!manager.WaitForExit(30_000))
        {
            manager.Kill(entireProcessTree: true);
        }

        manager.WaitForExit();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
    }
}
