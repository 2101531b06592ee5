using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Runtime.InteropServices;

namespace MlxManager.Bench;

/// <summary>
/// <c>startup</c>: the time from starting the manager to its first answered <c>/login</c>, with an HF cache of N models
/// (500), for the app as it is installed (published for this platform, ReadyToRun: the Mac package and a service
/// install) and as <c>dotnet run</c> starts it (the plain build). Each is measured on a new data folder (a first start:
/// both databases are created and migrated) and on that folder again (a restart, the usual case); the installed app
/// also with an empty cache, the baseline of the models' cost. Runs are interleaved, after one warm-up of each.
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
            var installed = await PublishAsync(Path.Combine(root, "published"));
            var built = typeof(MlxManager.Web.WebAppAssembly).Assembly.Location;
            Console.WriteLine($"startup: process start to the first 200 on /login; {models} cached models; {runs} runs of each, interleaved, after one warm-up; {Environment.ProcessorCount} cores");

            var cases = new List<Case>
            {
                new("installed, first start", installed, full, Restart: false),
                new("installed, restart", installed, full, Restart: true),
                new("installed, first start, no models", installed, empty, Restart: false),
                new("dotnet run build, first start", built, full, Restart: false),
                new("dotnet run build, restart", built, full, Restart: true),
            };
            foreach (var warmUp in cases.Where(c => !c.Restart))
            {
                await TimeStartAsync(root, $"warm-up-{cases.IndexOf(warmUp)}", warmUp); // pays for the OS file cache
            }

            for (var run = 0; run < runs; run++)
            {
                foreach (var current in cases)
                {
                    // A restart starts on the folder its first start (just before it in the list) left behind.
                    var folder = current.Restart ? $"run-{run}-{cases.IndexOf(current) - 1}" : $"run-{run}-{cases.IndexOf(current)}";
                    current.Add(await TimeStartAsync(root, folder, current));
                }
            }

            foreach (var current in cases)
            {
                Console.WriteLine(current.Summary());
            }

            var baseline = cases[2].MedianSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {models} models vs none (installed, first start): ×{cases[0].MedianSeconds / baseline:0.00}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  installed vs dotnet run build: first start ×{cases[0].MedianSeconds / cases[3].MedianSeconds:0.00}, restart ×{cases[1].MedianSeconds / cases[4].MedianSeconds:0.00}"));
            Console.WriteLine($"  target: < {TargetSeconds} s with {models} models for the installed app, first start and restart");
            var missed = cases.Take(2).Where(c => c.MedianSeconds >= TargetSeconds)
                .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Name} {c.MedianSeconds:0.000} s ≥ {TargetSeconds} s"))
                .ToList();
            Console.WriteLine(missed.Count == 0 ? "targets met" : "targets missed: " + string.Join("; ", missed));
            return missed.Count == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// <c>dotnet publish</c> of the web project for this platform, framework-dependent (the framework is ReadyToRun
    /// already; the Mac package carries the same framework inside), as the project's publish settings make it.
    /// </summary>
    private static async Task<string> PublishAsync(string output)
    {
        var project = Path.Combine(RepositoryRoot(), "src", "MlxManager.Web");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "publish", project, "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier, "--self-contained", "false", "-o", output, "--nologo", "-v", "quiet" })
        {
            start.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        using var publish = Process.Start(start) ?? throw new InvalidOperationException("dotnet publish did not start");
        var standardOutput = publish.StandardOutput.ReadToEndAsync();
        var errors = await publish.StandardError.ReadToEndAsync();
        await publish.WaitForExitAsync();
        if (publish.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish failed ({publish.ExitCode}): {await standardOutput}{errors}");
        }

        Console.WriteLine($"Published the manager for {RuntimeInformation.RuntimeIdentifier} (ReadyToRun) in {clock.Elapsed.TotalSeconds:0} s");
        return Path.Combine(output, "MlxManager.Web.dll");
    }

    /// <summary>The checkout this bench was built from: the first folder above it holding <c>MlxManager.sln</c>.</summary>
    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "MlxManager.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No MlxManager.sln above {AppContext.BaseDirectory}: run the bench from its build output in the checkout.");
    }

    /// <summary>
    /// Seconds from <see cref="Process.Start()"/> to the first successful GET /login, and the CPU seconds the manager used
    /// in all (it is stopped after; getrusage of the ended children).
    /// </summary>
    private static async Task<(double Seconds, double CpuSeconds)> TimeStartAsync(string root, string name, Case current)
    {
        var cpuBefore = DownloadsBench.ChildrenCpuSeconds();
        var folder = Directory.CreateDirectory(Path.Combine(root, name)).FullName;
        var port = ServersBench.FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
        var clock = Stopwatch.StartNew();
        using var manager = ServersBench.StartManager(folder, Path.Combine(folder, "no-engines"), current.Cache, port, current.WebDll);
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

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
    }

    /// <summary>One way of starting: which app, which cache, and whether on the data folder of the case before it.</summary>
    private sealed record Case(string Name, string WebDll, string Cache, bool Restart)
    {
        private readonly List<(double Seconds, double CpuSeconds)> _runs = [];

        public double MedianSeconds => Median(_runs.Select(r => r.Seconds));

        public void Add((double Seconds, double CpuSeconds) run) => _runs.Add(run);

        /// <summary>CPU of the whole run: start, first answer and stop.</summary>
        public string Summary() => string.Create(CultureInfo.InvariantCulture,
            $"  {Name,-34} median {MedianSeconds:0.000} s (min {_runs.Min(r => r.Seconds):0.000}, max {_runs.Max(r => r.Seconds):0.000}); CPU per run {Median(_runs.Select(r => r.CpuSeconds)):0.00} s");
    }
}
