using System.Diagnostics;

namespace MlxManager.Core.Tests.Metrics;

/// <summary>Real helper processes for sampling tests, started from argument lists and killed (whole tree) on dispose.</summary>
internal sealed class ChildProcesses : IDisposable
{
    public const long Megabyte = 1024 * 1024;

    private readonly List<Process> _started = [];

    /// <summary>Busy on one core, in user space, with almost no memory: hashes an endless stream of zeros.</summary>
    public Process StartBusy() => Start("sha256sum", "/dev/zero");

    /// <summary>Idle: sleeps.</summary>
    public Process StartIdle() => Start("sleep", "120");

    /// <summary>Allocates and touches <paramref name="megabytes"/> MiB (dd's block buffer), then keeps copying through it.</summary>
    public Process StartHolding(int megabytes) => Start("dd", "if=/dev/zero", "of=/dev/null", $"bs={megabytes}M");

    /// <summary>Runs <paramref name="command"/> as a child of coreutils' <c>timeout</c>, which stays as the parent.</summary>
    public Process StartWrapped(params string[] command) => Start("timeout", ["120", .. command]);

    public Process Start(string executable, params string[] arguments)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"{executable} did not start");
        _started.Add(process);
        return process;
    }

    public void Dispose()
    {
        foreach (var process in _started)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
                // Already exited and reaped: nothing left to clean up.
            }

            process.Dispose();
        }
    }
}
