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
/// (one curl, files one after another, following the redirect to the CDN; then the same with <c>--parallel</c>) and with
/// the app's download engine (<see cref="ModelDownloader"/>: the class the download job drives, with the default
/// settings) into an empty HF cache. Prints throughput of each, the ratio, and this process's memory growth while the
/// engine downloads (resident set and managed heap, sampled every 20 ms).
/// </summary>
internal static class DownloadsBench
{
    private const string RepoId = "bench/Qwen3-Bench-8bit";

    public static async Task<int> RunAsync(string[] args)
    {
        var sizeMb = IntOption(args, "--size-mb", 1024);
        var shards = IntOption(args, "--shards", 4);
        var rounds = IntOption(args, "--rounds", 2);
        var parallel = IntOption(args, "--parallel", new DownloadOptions().ParallelFiles);
        var bufferKb = IntOption(args, "--buffer-kb", new DownloadOptions().BufferBytes / 1024);
        var keep = args.Contains("--keep");
        var work = StringOption(args, "--work") ?? Path.Combine(Path.GetTempPath(), "mlxm-bench-downloads-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        try
        {
            return await RunInAsync(work, sizeMb, shards, rounds, parallel, bufferKb * 1024);
        }
        finally
        {
            if (!keep)
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    private static async Task<int> RunInAsync(string work, int sizeMb, int shards, int rounds, int parallel, int bufferBytes)
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
            return await MeasureAsync(work, repo, emulator, port, shards, rounds, parallel, bufferBytes);
        }
        finally
        {
            Stop(emulator);
        }
    }

    private static async Task<int> MeasureAsync(string work, WrittenRepo repo, Process emulator, int port, int shards, int rounds, int parallel, int bufferBytes)
    {
        var totalBytes = repo.Files.Sum(f => f.Size);
        var endpoint = $"http://127.0.0.1:{port}";
        await WaitForEmulatorAsync(endpoint, emulator);
        Console.WriteLine($"HubEmulator (pid {emulator.Id}) on {endpoint}; curl {CurlVersion()}");
        Console.WriteLine();

        var curlSequential = new List<(double Seconds, double CpuSeconds)>();
        var curlParallel = new List<(double Seconds, double CpuSeconds)>();
        var app = new List<(double Seconds, Memory Memory)>();
        for (var round = 1; round <= rounds; round++)
        {
            var seq = await CurlAsync(work, endpoint, repo, parallel: 0);
            curlSequential.Add(seq);
            var par = await CurlAsync(work, endpoint, repo, parallel);
            curlParallel.Add(par);
            var engine = await EngineAsync(work, endpoint, repo, parallel, bufferBytes);
            app.Add(engine);
            Console.WriteLine($"round {round}: curl {Rate(totalBytes, seq.Seconds)} (cpu {seq.CpuSeconds:F2} s), curl --parallel {Rate(totalBytes, par.Seconds)} (cpu {par.CpuSeconds:F2} s), app {Rate(totalBytes, engine.Seconds)} (cpu {engine.Memory.CpuSeconds:F2} s; RSS +{engine.Memory.RssGrowth / 1e6:F1} MB, heap +{engine.Memory.HeapGrowth / 1e6:F1} MB)");
        }

        var bestCurl = curlSequential.Min(c => c.Seconds);
        var bestCurlParallel = curlParallel.Min(c => c.Seconds);
        var bestApp = app.Min(a => a.Seconds);
        var medianCurl = Median(curlSequential.Select(c => c.Seconds));
        var medianApp = Median(app.Select(a => a.Seconds));
        var peakRss = app.Max(a => a.Memory.RssGrowth);
        var peakHeap = app.Max(a => a.Memory.HeapGrowth);
        var allocated = app.Max(a => a.Memory.Allocated);
        Console.WriteLine();
        Console.WriteLine($"Downloaded {totalBytes / 1e6:F0} MB ({repo.Files.Count} files, {shards} shards) over loopback, best of {rounds} round(s):");
        Console.WriteLine($"  curl -L -o (one after another)   {Rate(totalBytes, bestCurl),12}   {bestCurl,6:F2} s");
        Console.WriteLine($"  curl -L -o --parallel ({parallel})       {Rate(totalBytes, bestCurlParallel),12}   {bestCurlParallel,6:F2} s");
        Console.WriteLine($"  app download engine ({parallel} files)  {Rate(totalBytes, bestApp),12}   {bestApp,6:F2} s   (sha256 of every shard computed while streaming)");
        Console.WriteLine($"  ratio app / curl            {bestCurl / bestApp,6:F2} best, {medianCurl / medianApp:F2} median   (target ≥ 0.90)");
        Console.WriteLine($"  ratio app / curl --parallel {bestCurlParallel / bestApp,6:F2}");
        Console.WriteLine($"  app peak memory growth while downloading: resident set +{peakRss / 1e6:F1} MB, managed heap +{peakHeap / 1e6:F1} MB (target < 100 MB); {allocated / 1e6:F1} MB allocated in all");
        return 0;
    }

    private sealed record Memory(long RssGrowth, long HeapGrowth, long Allocated, double CpuSeconds);

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
                await Task.Delay(20);
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

        var cache = downloader.CacheOf(repo.Spec.RepoId);
        if (File.ReadAllText(Path.Combine(cache.Folder, "refs", "main")) != repo.Commit || progress.ReceivedBytes != repo.Files.Sum(f => f.Size))
        {
            throw new InvalidOperationException("the engine's download is not complete");
        }

        Directory.Delete(folder, recursive: true);
        return (seconds, new Memory(peakRss - baseRss, peakHeap - baseHeap, allocated, cpu));
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
    private static double ChildrenCpuSeconds()
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
