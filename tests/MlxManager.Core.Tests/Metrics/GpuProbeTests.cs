using Microsoft.Extensions.Logging.Abstractions;
using MlxManager.Core.Metrics;

namespace MlxManager.Core.Tests.Metrics;

public sealed class GpuProbeTests : IDisposable
{
    // Shape of `ioreg -r -d 1 -w 0 -c IOAccelerator` on an Apple Silicon Mac (abridged).
    private const string IoRegOutput = """
        +-o AGXAcceleratorG14X  <class AGXAcceleratorG14X, id 0x1000004d2, registered, matched, active, busy 0 (0 ms), retain 96>
            {
              "IOClass" = "AGXAcceleratorG14X"
              "IOMatchedAtBoot" = Yes
              "CFBundleIdentifier" = "com.apple.AGXG14X"
              "PerformanceStatistics" = {"In use system memory (driver)"=0,"Alloc system memory"=5368709120,"Tiler Utilization %"=31,"recoveryCount"=0,"lastRecoveryTime"=0,"Renderer Utilization %"=37,"TiledSceneBytes"=1048576,"Device Utilization %"=42,"SplitSceneCount"=0,"Allocated PB Size"=2228224,"In use system memory"=2147483648}
              "model" = "Apple M2 Max"
              "gpu-core-count" = 38
            }
        """;

    private readonly DirectoryInfo _bin = Directory.CreateTempSubdirectory("gpu-probe-");

    public void Dispose() => _bin.Delete(recursive: true);

    [Fact]
    public void ParseDeviceUtilization_ReadsThePerformanceStatistics()
    {
        IoRegistryGpuProbe.ParseDeviceUtilization(IoRegOutput).ShouldBe(42);
    }

    [Fact]
    public void ParseDeviceUtilization_WithSeveralAccelerators_TakesTheBusiest()
    {
        var two = IoRegOutput + "\n" + IoRegOutput.Replace("\"Device Utilization %\"=42", "\"Device Utilization %\"=7", StringComparison.Ordinal);

        IoRegistryGpuProbe.ParseDeviceUtilization(two).ShouldBe(42);
    }

    [Fact]
    public void ParseDeviceUtilization_WhenAbsent_IsUnknown()
    {
        IoRegistryGpuProbe.ParseDeviceUtilization("+-o IntelAccelerator  <class IntelAccelerator>\n  {\n  }\n").ShouldBeNull();
    }

    [Theory]
    [InlineData("37\n", new[] { 37.0 })]
    [InlineData("12\n88\n", new[] { 12.0, 88.0 })]
    [InlineData("  5 %\r\n", new[] { 5.0 })]
    [InlineData("[N/A]\n", new double[0])]
    [InlineData("[Not Supported]\n61\n", new[] { 61.0 })]
    [InlineData("", new double[0])]
    public void ParseUtilization_ReadsOneValuePerGpu(string output, double[] expected)
    {
        NvidiaSmiGpuProbe.ParseUtilization(output).ShouldBe(expected);
    }

    [Fact]
    public async Task ReadAsync_RunsTheCommandAndLabelsTheReadingSystemWide()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var smi = Script("nvidia-smi", "#!/bin/sh\n[ \"$1\" = --query-gpu=utilization.gpu ] && [ \"$2\" = --format=csv,noheader,nounits ] || exit 9\necho 30\necho 50\n");
        var probe = new NvidiaSmiGpuProbe(smi, TimeSpan.FromSeconds(10), NullLogger<NvidiaSmiGpuProbe>.Instance);

        var reading = await probe.ReadAsync(CancellationToken.None);

        reading.UtilizationPercent.ShouldBe(40);
        reading.Scope.ShouldBe(GpuScope.SystemWide);
        reading.Source.ShouldBe("2 NVIDIA GPUs (average), whole system");
    }

    [Fact]
    public async Task ReadAsync_WhenTheCommandHangs_GivesUpAtTheTimeout()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var smi = Script("nvidia-smi", "#!/bin/sh\nexec sleep 30\n");
        var probe = new NvidiaSmiGpuProbe(smi, TimeSpan.FromMilliseconds(300), NullLogger<NvidiaSmiGpuProbe>.Instance);
        var started = System.Diagnostics.Stopwatch.StartNew();

        var reading = await probe.ReadAsync(CancellationToken.None);

        reading.ShouldBe(GpuReading.NotAvailable);
        started.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ReadAsync_WhenTheCommandFailsOrIsMissing_IsNotAvailable()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var failing = new IoRegistryGpuProbe(Script("ioreg", "#!/bin/sh\necho boom >&2\nexit 1\n"), TimeSpan.FromSeconds(10), NullLogger<IoRegistryGpuProbe>.Instance);
        var missing = new IoRegistryGpuProbe(Path.Combine(_bin.FullName, "absent"), TimeSpan.FromSeconds(10), NullLogger<IoRegistryGpuProbe>.Instance);

        (await failing.ReadAsync(CancellationToken.None)).ShouldBe(GpuReading.NotAvailable);
        (await missing.ReadAsync(CancellationToken.None)).ShouldBe(GpuReading.NotAvailable);
    }

    [Fact]
    public async Task ReadAsync_OfIoRegOutput_IsLabelledAsTheWholeSystem()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var file = Path.Combine(_bin.FullName, "ioreg.txt");
        await File.WriteAllTextAsync(file, IoRegOutput);
        var ioreg = Script("ioreg", $"#!/bin/sh\ncat '{file}'\n");

        var reading = await new IoRegistryGpuProbe(ioreg, TimeSpan.FromSeconds(10), NullLogger<IoRegistryGpuProbe>.Instance).ReadAsync(CancellationToken.None);

        reading.ShouldBe(new GpuReading(42, GpuScope.SystemWide, "Apple GPU (IOAccelerator), whole system"));
    }

    [Fact]
    public void ForCurrentPlatform_WithoutAGpuTool_IsNotAvailable()
    {
        if (OperatingSystem.IsMacOS() || File.Exists("/usr/bin/nvidia-smi"))
        {
            return;
        }

        GpuProbe.ForCurrentPlatform(NullLoggerFactory.Instance).ShouldBeOfType<UnavailableGpuProbe>();
    }

    private string Script(string name, string text)
    {
        var path = Path.Combine(_bin.FullName, name);
        File.WriteAllText(path, text);
        if (OperatingSystem.IsWindows())
        {
            return path;
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
