using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using MlxManager.Core.Downloads;
using MlxManager.Core.Hub;
using MlxManager.Core.Library;
using MlxManager.ModelFixtures;

namespace MlxManager.Bench;

/// <summary>
/// <c>Bench downloads</c>: writes a model of at least 1 GB (ModelFixtures, several shards), serves it from the
/// HubEmulator running as its own process on loopback, then in each round downloads every file with <c>curl -L -o</c>
/// (one curl, files one after another, following the redirect to the CDN) and with the app's download engine
/// (<see cref="ModelDownloader"/>: the class the download job drives, with the default settings) into an empty HF
/// cache. Three cases: full speed, the emulator capped at <c>--rate-mb</c> (250 MB/s, a fast real line, through its
/// own throttle fault), and full speed beside a process keeping one core busy. Prints throughput and CPU seconds per
/// GB of each (curl's from getrusage of its children, the app's from this process), the median ratios, and this
/// process's memory growth while the engine downloads (resident set and managed heap, sampled every 50 ms: the sampler runs in the process whose CPU is measured).
/// </summary>
/// <remarks>
/// Untimed downloads come first: one with curl, and with the app's engine as many as the runtime takes to finish
/// compiling its download path (tiered compilation goes on recompiling hot methods in the background over the first
/// few downloads). The manager is a long-running process, so that is paid once per process, not per GB; the summary
/// prints what it cost, and each timed round prints what compiling still cost within it. This process runs with the
/// app's runtime settings (no TieredPGO, no spinning pool threads: see the project file). <c>--cases full,capped,neighbour</c>
/// picks cases.
/// </remarks>
internal static class DownloadsBench
{
    private const string RepoId = "bench/Qwen3-Bench-8bit";

    public static async Task<int> RunAsync(string[] args)
    {
        var sizeMb = IntOption(args, "--size-mb", 1024);
        var shards = IntOption(args, "--shards", 4);
        var rounds = IntOption(args, "--rounds", 3);
        var parallel = IntOption(args, "--parallel", new DownloadOptions().ParallelFiles);
        var bufferKb = IntOption(args, "--buffer-kb", new DownloadOptions().BufferBytes / 1024);
        var rateMb = IntOption(args, "--rate-mb", 250);
        var only = StringOption(args, "--cases")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } named ? named : null;
        if (only?.FirstOrDefault(c => !CaseKeys.Contains(c, StringComparer.OrdinalIgnoreCase)) is { } unknown)
        {
            Console.Error.WriteLine($"--cases: no case \"{unknown}\"; the cases are {string.Join(", ", CaseKeys)}");
            return 2;
        }

        var keep = args.Contains("--keep");
        var work = StringOption(args, "--work") ?? Path.Combine(Path.GetTempPath(), "mlxm-bench-downloads-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        try
        {
            return await RunInAsync(work, sizeMb, shards, rounds, parallel, bufferKb * 1024, rateMb, only);
        }
        finally
        {
            if (!keep)
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    private static async Task<int> RunInAsync(string work, int sizeMb, int shards, int rounds, int parallel, int bufferBytes, int rateMb, string[]? only)
    {
        var root = Path.Combine(work, "hub");
        Console.WriteLine($"Writing a {sizeMb} MiB model in {shards} shards under {root} …");
        var spec = FixtureCatalog.Sized(FixtureCatalog.Large with { RepoId = RepoId }, (long)sizeMb * 1024 * 1024, shards);
        var repo = HubRootWriter.Write(root, spec);
        var totalBytes = repo.Files.Sum(f => f.Size);
        Console.WriteLine($"  {repo.Files.Count} files, {totalBytes / 1e6:F0} MB, commit {repo.Commit[..12]}");
        WarmPageCache(repo);

        var port = FreePort();
        using var emulator = StartEmulator(root, port);
        try
        {
            return await MeasureAsync(work, repo, emulator, port, shards, rounds, parallel, bufferBytes, rateMb, only);
        }
        finally
        {
            Stop(emulator);
        }
    }

    private static async Task<int> MeasureAsync(string work, WrittenRepo repo, Process emulator, int port, int shards, int rounds, int parallel, int bufferBytes, int rateMb, string[]? only)
    {
        var totalBytes = repo.Files.Sum(f => f.Size);
        var endpoint = $"http://127.0.0.1:{port}";
        await WaitForEmulatorAsync(endpoint, emulator);
        Console.WriteLine($"HubEmulator (pid {emulator.Id}) on {endpoint}; curl {CurlVersion()}; {Environment.ProcessorCount} cores");
        Console.WriteLine($"Each round: curl -L -o (files one after another) then the app's engine ({parallel} files at once); {rounds} rounds per case, after one untimed curl and untimed app downloads until the runtime has compiled the app's download path");
        Console.WriteLine();
        await SetThrottleAsync(endpoint, null);
        await CurlAsync(work, endpoint, repo, parallel: 0);
        var warmUp = await WarmUpAsync(work, endpoint, repo, parallel, bufferBytes);

        var cases = new[]
        {
            new Case("unthrottled", "full", null, Neighbour: false, TargetRatio: 0.90),
            new Case($"throttled to {rateMb} MB/s", "capped", rateMb * 1_000_000L, Neighbour: false, TargetRatio: 0.97),
            new Case("unthrottled, CPU-bound neighbour", "neighbour", null, Neighbour: true, TargetRatio: 0.90),
        }.Where(c => only is null || only.Contains(c.Key, StringComparer.OrdinalIgnoreCase)).ToList();
        var missed = new List<string>();
        var summaries = new List<string>();
        double? unthrottledAppCpu = null, unthrottledCurlCpu = null;
        long peakRss = 0, peakHeap = 0, allocated = 0;
        foreach (var current in cases)
        {
            await SetThrottleAsync(endpoint, current.BytesPerSecond);
            var curl = new List<(double Seconds, double CpuSeconds)>();
            var app = new List<(double Seconds, Memory Memory)>();
            for (var round = 1; round <= rounds; round++)
            {
                using (current.Neighbour ? Neighbour.Start() : null)
                {
                    curl.Add(await CurlAsync(work, endpoint, repo, parallel: 0));
                    app.Add(await EngineAsync(work, endpoint, repo, parallel, bufferBytes));
                }

                var (c, e) = (curl[^1], app[^1]);
                Console.WriteLine($"  {current.Name}, round {round}: curl {Rate(totalBytes, c.Seconds)} (cpu {c.CpuSeconds:F2} s), app {Rate(totalBytes, e.Seconds)} (cpu {e.Memory.CpuSeconds:F2} s, of which compiling {e.Memory.JitMethods} methods {e.Memory.JitSeconds:F2} s; RSS +{e.Memory.RssGrowth / 1e6:F1} MB, heap +{e.Memory.HeapGrowth / 1e6:F1} MB)");
            }

            var curlSeconds = Median(curl.Select(c => c.Seconds));
            var appSeconds = Median(app.Select(a => a.Seconds));
            var ratio = curlSeconds / appSeconds;
            var gb = totalBytes / 1e9;
            var curlCpu = Median(curl.Select(c => c.CpuSeconds)) / gb;
            var appCpu = Median(app.Select(a => a.Memory.CpuSeconds)) / gb;
            if (current.BytesPerSecond is null && !current.Neighbour)
            {
                (unthrottledAppCpu, unthrottledCurlCpu) = (appCpu, curlCpu);
            }

            peakRss = Math.Max(peakRss, app.Max(a => a.Memory.RssGrowth));
            peakHeap = Math.Max(peakHeap, app.Max(a => a.Memory.HeapGrowth));
            allocated = Math.Max(allocated, app.Max(a => a.Memory.Allocated));
            summaries.Add($"  {current.Name,-34} curl {Rate(totalBytes, curlSeconds),10}  app {Rate(totalBytes, appSeconds),10}  ratio {ratio:F2} median (spread {Spread(curl.Select(c => c.Seconds), app.Select(a => a.Seconds))}; target ≥ {current.TargetRatio:F2})  cpu/GB curl {curlCpu:F2} s, app {appCpu:F2} s (×{appCpu / curlCpu:F2})");
            if (ratio < current.TargetRatio)
            {
                missed.Add($"{current.Name} ratio {ratio:F2} < {current.TargetRatio:F2}");
            }
        }

        await SetThrottleAsync(endpoint, null);
        Console.WriteLine();
        Console.WriteLine($"Downloaded {totalBytes / 1e6:F0} MB ({repo.Files.Count} files, {shards} shards) over loopback; medians of {rounds} rounds (sha256 of every shard computed while streaming):");
        summaries.ForEach(Console.WriteLine);
        if (unthrottledAppCpu is { } appCpuPerGb && unthrottledCurlCpu is { } curlCpuPerGb)
        {
            var cpuRatio = appCpuPerGb / curlCpuPerGb;
            var hashCpu = Sha256CpuSecondsPerGb();
            Console.WriteLine($"  app CPU per GB, unthrottled: ×{cpuRatio:F2} curl's (target ≤ 1.30); sha256 alone takes {hashCpu:F2} s per GB here, so curl plus the hash the app must check is ×{(curlCpuPerGb + hashCpu) / curlCpuPerGb:F2}");
            if (cpuRatio > 1.3)
            {
                missed.Add($"app CPU/GB ×{cpuRatio:F2} curl's > 1.30");
            }
        }

        Console.WriteLine($"  one-off, before these rounds: the runtime compiled {warmUp.Methods} methods ({warmUp.Seconds:F2} s compiling) during the app's first {warmUp.Downloads} downloads (once per process, not per GB; the manager is long-running)");
        Console.WriteLine($"  app peak memory growth while downloading: resident set +{peakRss / 1e6:F1} MB, managed heap +{peakHeap / 1e6:F1} MB (target < 100 MB); {allocated / 1e6:F1} MB allocated in one download");
        if (peakRss >= 100_000_000)
        {
            missed.Add($"memory growth {peakRss / 1e6:F0} MB ≥ 100 MB");
        }

        Console.WriteLine(missed.Count == 0 ? "targets met" : $"targets missed: {string.Join("; ", missed)}");
        return missed.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// Untimed downloads with the app's engine until the runtime has finished compiling its download path: tiered
    /// compilation recompiles hot methods (and OSR loops) in the background over the first downloads, hundreds of methods
    /// per download at first. Stops when a download compiled for less than <see cref="SettledJitSeconds"/>, or after
    /// <see cref="MaxWarmUpDownloads"/>. Returns what compiling cost, so the summary reports it beside the per-GB figures.
    /// </summary>
    private static async Task<(int Downloads, long Methods, double Seconds)> WarmUpAsync(string work, string endpoint, WrittenRepo repo, int parallel, int bufferBytes)
    {
        var (downloads, methods, seconds) = (0, 0L, 0.0);
        while (downloads < MaxWarmUpDownloads)
        {
            var (_, memory) = await EngineAsync(work, endpoint, repo, parallel, bufferBytes);
            downloads++;
            methods += memory.JitMethods;
            seconds += memory.JitSeconds;
            Console.WriteLine($"  warm-up download {downloads}: app cpu {memory.CpuSeconds:F2} s, of which compiling {memory.JitMethods} methods {memory.JitSeconds:F2} s");
            if (memory.JitSeconds < SettledJitSeconds)
            {
                break;
            }
        }

        return (downloads, methods, seconds);
    }

    private static readonly string[] CaseKeys = ["full", "capped", "neighbour"];

    private const double SettledJitSeconds = 0.02;
    private const int MaxWarmUpDownloads = 8;

    /// <summary>CPU seconds this process spends on sha256 per GB (128 KiB chunks, as the engine hashes them).</summary>
    private static double Sha256CpuSecondsPerGb()
    {
        var chunk = new byte[128 * 1024];
        Random.Shared.NextBytes(chunk);
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var before = Process.GetCurrentProcess().TotalProcessorTime;
        const int chunks = 4096; // 512 MiB
        for (var i = 0; i < chunks; i++)
        {
            hash.AppendData(chunk);
        }

        hash.GetHashAndReset();
        var seconds = (Process.GetCurrentProcess().TotalProcessorTime - before).TotalSeconds;
        return seconds / (chunks * (double)chunk.Length / 1e9);
    }

    /// <summary>One condition of the link: the emulator's global cap (null: full speed) and whether a neighbour spins a core.</summary>
    private sealed record Case(string Name, string Key, long? BytesPerSecond, bool Neighbour, double TargetRatio);

    /// <summary>
    /// A CPU-bound process beside both contestants (<c>sha256sum /dev/zero</c>: one core busy, hardly any I/O), as the
    /// engines are on a Mac that serves models while it downloads.
    /// </summary>
    private sealed class Neighbour : IDisposable
    {
        private readonly Process _process;

        private Neighbour(Process process) => _process = process;

        public static Neighbour Start()
        {
            var start = new ProcessStartInfo("sha256sum") { UseShellExecute = false, RedirectStandardOutput = true };
            start.ArgumentList.Add("/dev/zero");
            return new Neighbour(Process.Start(start) ?? throw new InvalidOperationException("sha256sum did not start"));
        }

        public void Dispose()
        {
            _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }
    }

    /// <summary>Sets the emulator's cap on all file bodies together through its control API (null lifts it).</summary>
    private static async Task SetThrottleAsync(string endpoint, long? bytesPerSecond)
    {
        using var http = new HttpClient();
        var body = bytesPerSecond is { } rate ? $"{{\"throttleBytesPerSecond\":{rate}}}" : "{}";
        using var response = await http.PostAsync($"{endpoint}/_emulator/faults", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    private static string Spread(IEnumerable<double> curl, IEnumerable<double> app)
    {
        var (c, a) = (curl.ToList(), app.ToList());
        return $"curl {c.Min():F2}–{c.Max():F2} s, app {a.Min():F2}–{a.Max():F2} s";
    }

    private sealed record Memory(long RssGrowth, long HeapGrowth, long Allocated, double CpuSeconds, double JitSeconds, long JitMethods);

    /// <summary>All files with one curl: one after another (<paramref name="parallel"/> 0) or <c>--parallel</c>.</summary>
    private static async Task<(double Seconds, double CpuSeconds)> CurlAsync(string work, string endpoint, WrittenRepo repo, int parallel)
    {
        var target = Path.Combine(work, "curl");
        Directory.CreateDirectory(target);
        var start = new ProcessStartInfo("curl") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in new[] { "-sS", "-f", "-L" })
        {
            start.ArgumentList.Add(argument);
        }

        if (parallel > 0)
        {
            start.ArgumentList.Add("--parallel");
            start.ArgumentList.Add("--parallel-max");
            start.ArgumentList.Add(parallel.ToString(CultureInfo.InvariantCulture));
        }

        foreach (var file in repo.Files)
        {
            start.ArgumentList.Add("-o");
            start.ArgumentList.Add(Path.Combine(target, file.Path.Replace('/', '_')));
            start.ArgumentList.Add($"{endpoint}/{repo.Spec.RepoId}/resolve/main/{Uri.EscapeDataString(file.Path)}");
        }

        var childCpu = ChildrenCpuSeconds();
        var clock = Stopwatch.StartNew();
        using var curl = Process.Start(start) ?? throw new InvalidOperationException("curl did not start");
        var errors = await curl.StandardError.ReadToEndAsync();
        await curl.WaitForExitAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = ChildrenCpuSeconds() - childCpu;
        if (curl.ExitCode != 0)
        {
            throw new InvalidOperationException($"curl failed ({curl.ExitCode}): {errors}");
        }

        foreach (var file in repo.Files)
        {
            var length = new FileInfo(Path.Combine(target, file.Path.Replace('/', '_'))).Length;
            if (length != file.Size)
            {
                throw new InvalidOperationException($"curl wrote {length} bytes of {file.Path}, expected {file.Size}");
            }
        }

        Directory.Delete(target, recursive: true);
        return (seconds, cpu);
    }

    /// <summary>The app's engine into an empty HF cache, as the download job runs it; memory sampled meanwhile.</summary>
    private static async Task<(double Seconds, Memory Memory)> EngineAsync(string work, string endpoint, WrittenRepo repo, int parallel, int bufferBytes)
    {
        var folder = Path.Combine(work, "app");
        var variables = new Dictionary<string, string?>
        {
            ["HF_ENDPOINT"] = endpoint,
            ["HF_HOME"] = Path.Combine(folder, "hf-home"),
            ["HF_HUB_CACHE"] = Path.Combine(folder, "hub"),
        };
        var environment = HfEnvironment.Resolve(name => variables.GetValueOrDefault(name), folder);
        var hubOptions = new HubClientOptions();
        using var http = new HttpClient(HubResilience.CreateHandler(hubOptions)) { Timeout = Timeout.InfiniteTimeSpan };
        var hub = new HubClient(http, new HubConnectionSource(environment), hubOptions);
        var options = new DownloadOptions { ParallelFiles = parallel, BufferBytes = bufferBytes };
        var downloader = new ModelDownloader(hub, environment, new VolumeDiskSpace(), new FileRepoManifestStore(Path.Combine(folder, "manifests")), Options.Create(options));

        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var baseRss = self.WorkingSet64;
        var baseHeap = GC.GetTotalMemory(false);
        var baseAllocated = GC.GetTotalAllocatedBytes(precise: true);
        var baseCpu = self.TotalProcessorTime;
        var baseJit = System.Runtime.JitInfo.GetCompilationTime();
        var baseJitMethods = System.Runtime.JitInfo.GetCompiledMethodCount();
        long peakRss = baseRss, peakHeap = baseHeap;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var process = Process.GetCurrentProcess();
            while (!stop.IsCancellationRequested)
            {
                process.Refresh();
                peakRss = Math.Max(peakRss, process.WorkingSet64);
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                await Task.Delay(50);
            }
        });

        var clock = Stopwatch.StartNew();
        var plan = await downloader.PlanAsync(repo.Spec.RepoId);
        var progress = new DownloadProgress();
        await downloader.DownloadAsync(plan, progress);
        var seconds = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await sampler;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - baseAllocated;
        self.Refresh();
        var cpu = (self.TotalProcessorTime - baseCpu).TotalSeconds;
        var jit = (System.Runtime.JitInfo.GetCompilationTime() - baseJit).TotalSeconds;
        var jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount() - baseJitMethods;

        var cache = downloader.CacheOf(repo.Spec.RepoId);
        if (File.ReadAllText(Path.Combine(cache.Folder, "refs", "main")) != repo.Commit || progress.ReceivedBytes != repo.Files.Sum(f => f.Size))
        {
            throw new InvalidOperationException("the engine's download is not complete");
        }

        Directory.Delete(folder, recursive: true);
        return (seconds, new Memory(peakRss - baseRss, peakHeap - baseHeap, allocated, cpu, jit, jitMethods));
    }

    private static Process StartEmulator(string root, int port)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "MlxManager.HubEmulator.dll");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { dll, "--root", root, "--port", port.ToString(CultureInfo.InvariantCulture), "--quiet" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("the HubEmulator did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { Length: > 0 } text)
            {
                Console.Error.WriteLine("emulator: " + text);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForEmulatorAsync(string endpoint, Process emulator)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            if (emulator.HasExited)
            {
                throw new InvalidOperationException($"the HubEmulator exited with {emulator.ExitCode}");
            }

            try
            {
                // The first call hashes every file (the commit id); it also tells that the emulator is up.
                using var response = await http.GetAsync($"{endpoint}/api/models/{RepoId}");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException exception) when (DateTime.UtcNow < deadline)
            {
                Console.Error.WriteLine($"  waiting for the emulator ({exception.Message})");
            }

            await Task.Delay(250);
        }
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }

    /// <summary>Reads the fixture once so neither contestant pays for the first read from disk.</summary>
    private static void WarmPageCache(WrittenRepo repo)
    {
        var buffer = new byte[1 << 20];
        foreach (var file in repo.Files)
        {
            using var stream = File.OpenRead(Path.Combine(repo.Folder, file.Path));
            while (stream.Read(buffer) > 0)
            {
            }
        }
    }

    private static string CurlVersion()
    {
        using var curl = Process.Start(new ProcessStartInfo("curl", "--version") { RedirectStandardOutput = true, UseShellExecute = false })!;
        var first = curl.StandardOutput.ReadLine() ?? "?";
        curl.WaitForExit();
        return string.Join(' ', first.Split(' ').Take(2));
    }

    /// <summary>User + system CPU of the children that ended (getrusage RUSAGE_CHILDREN); NaN off Linux.</summary>
    internal static double ChildrenCpuSeconds()
    {
        if (!OperatingSystem.IsLinux() || GetRusage(-1, out var usage) != 0)
        {
            return double.NaN;
        }

        return usage.UserSeconds + (usage.UserMicroseconds / 1e6) + usage.SystemSeconds + (usage.SystemMicroseconds / 1e6);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRusage(int who, out ResourceUsage usage);

    /// <summary>struct rusage on 64-bit Linux: two timevals, then fourteen longs.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct ResourceUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.ByValArray, SizeConst = 14)]
        public long[] Rest;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Rate(long bytes, double seconds) => $"{bytes / seconds / 1e6:F0} MB/s";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static int IntOption(string[] args, string name, int fallback) =>
        StringOption(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string? StringOption(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
