using System.Globalization;
using System.Text.RegularExpressions;
using CliWrap;
using CliWrap.Buffered;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Engines;

namespace MlxManager.Core.Metrics;

/// <summary>What a GPU reading covers.</summary>
public enum GpuScope
{
    /// <summary>No reading on this machine.</summary>
    NotAvailable,

    /// <summary>The whole GPU, all processes together: label it so, never as one server's share.</summary>
    SystemWide,
}

/// <summary>GPU utilisation as the platform reports it, or "n/a".</summary>
/// <param name="UtilizationPercent">0–100, null when unknown.</param>
/// <param name="Scope">What the figure covers.</param>
/// <param name="Source">Where it comes from, for the gauge's tooltip (e.g. "Apple GPU (IOAccelerator), whole system").</param>
public sealed record GpuReading(double? UtilizationPercent, GpuScope Scope, string Source)
{
    public static readonly GpuReading NotAvailable = new(null, GpuScope.NotAvailable, "n/a");

    public bool IsAvailable => UtilizationPercent is not null;
}

/// <summary>Reads GPU utilisation. Implementations never throw; failures read as <see cref="GpuReading.NotAvailable"/>.</summary>
public interface IGpuProbe
{
    Task<GpuReading> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>Chooses the GPU probe for this machine.</summary>
public static class GpuProbe
{
    /// <summary>macOS: <c>ioreg</c> IOAccelerator statistics. Elsewhere: nvidia-smi when it is on PATH. Otherwise n/a.</summary>
    public static IGpuProbe ForCurrentPlatform(ILoggerFactory loggerFactory, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(2);
        if (OperatingSystem.IsMacOS() && EngineExecutableLocator.IsExecutableFile("/usr/sbin/ioreg"))
        {
            return new IoRegistryGpuProbe("/usr/sbin/ioreg", limit, loggerFactory.CreateLogger<IoRegistryGpuProbe>());
        }

        var nvidiaSmi = FindOnPath("nvidia-smi");
        return nvidiaSmi is not null
            ? new NvidiaSmiGpuProbe(nvidiaSmi, limit, loggerFactory.CreateLogger<NvidiaSmiGpuProbe>())
            : new UnavailableGpuProbe();
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(directory => Path.Combine(directory, name))
        .FirstOrDefault(EngineExecutableLocator.IsExecutableFile);
}

/// <summary>No GPU figure on this machine: the gauge shows "n/a".</summary>
public sealed class UnavailableGpuProbe : IGpuProbe
{
    public Task<GpuReading> ReadAsync(CancellationToken cancellationToken) => Task.FromResult(GpuReading.NotAvailable);
}

/// <summary>Runs a read-only command with a timeout; its output is parsed by the concrete probe.</summary>
public abstract partial class CommandGpuProbe(string executable, IReadOnlyList<string> arguments, TimeSpan timeout, ILogger logger) : IGpuProbe
{
    /// <inheritdoc />
    public async Task<GpuReading> ReadAsync(CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            var result = await Cli.Wrap(executable)
                .WithArguments(arguments)
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(limit.Token)
                .ConfigureAwait(false);
            if (result.ExitCode != 0)
            {
                LogFailed(logger, executable, $"exit code {result.ExitCode}: {result.StandardError.Trim()}");
                return GpuReading.NotAvailable;
            }

            return Interpret(result.StandardOutput);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, executable, $"no answer within {timeout.TotalSeconds:0.#} s");
            return GpuReading.NotAvailable;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            LogFailed(logger, executable, e.Message);
            return GpuReading.NotAvailable;
        }
    }

    /// <summary>Turns the command's output into a reading.</summary>
    protected abstract GpuReading Interpret(string output);

    [LoggerMessage(Level = LogLevel.Debug, Message = "GPU probe {Executable} gave no reading: {Reason}")]
    private static partial void LogFailed(ILogger logger, string executable, string reason);
}

/// <summary>
/// NVIDIA: <c>nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits</c>, one line per GPU;
/// several GPUs are averaged.
/// </summary>
public sealed class NvidiaSmiGpuProbe(string executable, TimeSpan timeout, ILogger<NvidiaSmiGpuProbe> logger)
    : CommandGpuProbe(executable, ["--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"], timeout, logger)
{
    /// <summary>Utilisation per GPU, skipping lines nvidia-smi could not fill ("[N/A]", "[Not Supported]").</summary>
    public static IReadOnlyList<double> ParseUtilization(string output)
    {
        var values = new List<double>();
        foreach (var line in output.AsSpan().EnumerateLines())
        {
            var text = line.Trim().TrimEnd('%').Trim();
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is >= 0 and <= 100)
            {
                values.Add(value);
            }
        }

        return values;
    }

    protected override GpuReading Interpret(string output)
    {
        var values = ParseUtilization(output);
        return values.Count == 0
            ? GpuReading.NotAvailable
            : new GpuReading(values.Average(), GpuScope.SystemWide, values.Count == 1 ? "NVIDIA GPU, whole system" : $"{values.Count} NVIDIA GPUs (average), whole system");
    }
}

/// <summary>
/// Apple GPU: <c>ioreg -r -d 1 -w 0 -c IOAccelerator</c> and the <c>"Device Utilization %"</c> entry of each
/// accelerator's PerformanceStatistics. It covers every process on the machine, and is labelled so.
/// </summary>
public sealed partial class IoRegistryGpuProbe(string executable, TimeSpan timeout, ILogger<IoRegistryGpuProbe> logger)
    : CommandGpuProbe(executable, ["-r", "-d", "1", "-w", "0", "-c", "IOAccelerator"], timeout, logger)
{
    /// <summary>The highest "Device Utilization %" among the accelerators listed, or null when none reports it.</summary>
    public static double? ParseDeviceUtilization(string output)
    {
        double? highest = null;
        foreach (Match match in DeviceUtilization().Matches(output))
        {
            var value = double.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
            if (value is >= 0 and <= 100 && (highest is null || value > highest))
            {
                highest = value;
            }
        }

        return highest;
    }

    protected override GpuReading Interpret(string output) =>
        ParseDeviceUtilization(output) is { } value
            ? new GpuReading(value, GpuScope.SystemWide, "Apple GPU (IOAccelerator), whole system")
            : GpuReading.NotAvailable;

    [GeneratedRegex("\"Device Utilization %\"\\s*=\\s*(\\d+(?:\\.\\d+)?)")]
    private static partial Regex DeviceUtilization();
}
