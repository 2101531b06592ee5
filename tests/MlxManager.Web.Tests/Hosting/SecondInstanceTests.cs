using System.Diagnostics;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Servers.Infrastructure;
using Xunit.Abstractions;

namespace MlxManager.Web.Tests.Hosting;

/// <summary>Two real app processes on one data folder: the second says which folder is in use and what to do, and exits with 1.</summary>
public sealed class SecondInstanceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SecondProcessOnAFolderInUse_PrintsOneClearLine_AndExitsWith1()
    {
        using var folder = new TestDataFolder();
        using var first = Start(folder);
        try
        {
            await WaitForAsync(() => first.Output.Contains("Application started.", StringComparison.Ordinal) || first.Process.HasExited);
            first.Process.HasExited.ShouldBeFalse(first.Output);

            using var second = Start(folder);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await second.Process.WaitForExitAsync(timeout.Token);
            second.Process.WaitForExit(); // flushes the redirected streams
            output.WriteLine(second.Errors);

            second.Process.ExitCode.ShouldBe(1);
            second.Errors.Trim().ShouldBe($"The data folder {folder.Path} is in use by another MLX Manager. Stop it, or start this one with --data <another folder>.");
            second.Output.ShouldNotContain(" at ");
            first.Process.HasExited.ShouldBeFalse("the first instance keeps running");
        }
        finally
        {
            first.Process.Kill(entireProcessTree: true);
            await first.Process.WaitForExitAsync();
        }
    }

    private static AppProcess Start(TestDataFolder folder)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "MlxManager.Web.dll"), "--data", folder.Path, "--urls", $"http://127.0.0.1:{SeedProfiles.FreePort()}" })
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["Logging__LogLevel__Default"] = "Information";
        start.Environment["MlxManager__Servers__AutoStart"] = "false";
        return new AppProcess(Process.Start(start)!);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(90), "the first instance never started");
            await Task.Delay(100);
        }
    }

    /// <summary>A started process with its standard output and error collected.</summary>
    private sealed class AppProcess : IDisposable
    {
        private readonly System.Text.StringBuilder _output = new();
        private readonly System.Text.StringBuilder _errors = new();

        public AppProcess(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => Append(_output, e.Data);
            process.ErrorDataReceived += (_, e) => Append(_errors, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output => Read(_output);

        public string Errors => Read(_errors);

        public void Dispose() => Process.Dispose();

        private static void Append(System.Text.StringBuilder text, string? line)
        {
            if (line is not null)
            {
                lock (text)
                {
                    text.AppendLine(line);
                }
            }
        }

        private static string Read(System.Text.StringBuilder text)
        {
            lock (text)
            {
                return text.ToString();
            }
        }
    }
}
