using MlxManager.Core.Engines;

namespace MlxManager.Core.Tests.Engines;

public class PythonThreadCrashWatcherTests
{
    private static readonly string[] UnsupportedModel =
    [
        "Exception in thread Thread-1 (_generate):",
        "Traceback (most recent call last):",
        "  File \"/venv/lib/python3.12/site-packages/mlx_lm/utils.py\", line 87, in _get_classes",
        "    arch = importlib.import_module(f\"mlx_lm.models.{model_type}\")",
        "ModuleNotFoundError: No module named 'mlx_lm.models.foo'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        "  File \"/usr/lib/python3.12/threading.py\", line 1075, in _bootstrap_inner",
        "    self.run()",
        "  File \"/venv/lib/python3.12/site-packages/mlx_lm/utils.py\", line 91, in _get_classes",
        "    raise ValueError(msg)",
        "ValueError: Model type foo not supported.",
    ];

    [Fact]
    public void Observe_WhenTheGenerationThreadDies_ReportsTheLastExceptionOnceTheNextLineArrives()
    {
        var watcher = new PythonThreadCrashWatcher();

        foreach (var line in UnsupportedModel)
        {
            watcher.Observe(line).ShouldBeNull();
        }

        var match = watcher.Observe("2026-05-01 10:00:00,000 - INFO - still listening").ShouldNotBeNull();
        match.Summary.ShouldBe("ValueError: Model type foo not supported.");
        match.Detail.ShouldBe(string.Join('\n', UnsupportedModel));
    }

    [Fact]
    public void Flush_WhenTheOutputGoesQuietAfterTheException_ReportsIt()
    {
        var watcher = new PythonThreadCrashWatcher();
        foreach (var line in UnsupportedModel)
        {
            watcher.Observe(line);
        }

        watcher.Flush().ShouldNotBeNull().Summary.ShouldBe("ValueError: Model type foo not supported.");
        watcher.Flush().ShouldBeNull();
    }

    [Fact]
    public void Observe_IgnoresErrorsThatAreNotAThreadDying()
    {
        var watcher = new PythonThreadCrashWatcher();
        string[] log =
        [
            "2026-05-01 10:00:00,000 - INFO - Starting httpd at 127.0.0.1 on port 8080...",
            "Error: this word alone means nothing",
            "----------------------------------------",
            "Exception occurred during processing of request from ('127.0.0.1', 50000)",
            "Traceback (most recent call last):",
            "  File \"/usr/lib/python3.12/socketserver.py\", line 318, in _handle_request_noblock",
            "BrokenPipeError: [Errno 32] Broken pipe",
            "----------------------------------------",
        ];

        log.Select(watcher.Observe).ShouldAllBe(m => m == null);
        watcher.Flush().ShouldBeNull();
    }

    [Fact]
    public void Flush_WhenATracebackIsCutShort_StillReportsTheThreadCrash()
    {
        var watcher = new PythonThreadCrashWatcher();
        watcher.Observe("Exception in thread Thread-1 (_generate):");
        watcher.Observe("Traceback (most recent call last):");

        var match = watcher.Flush().ShouldNotBeNull();
        match.Summary.ShouldBe("Exception in thread Thread-1 (_generate):");
    }

    [Fact]
    public void Observe_WhenASecondThreadDiesRightAfter_StartsANewMatch()
    {
        var watcher = new PythonThreadCrashWatcher();
        watcher.Observe("Exception in thread A:");
        watcher.Observe("Traceback (most recent call last):");
        watcher.Observe("RuntimeError: first");

        watcher.Observe("Exception in thread B:").ShouldNotBeNull().Summary.ShouldBe("RuntimeError: first");
        watcher.Observe("Traceback (most recent call last):");
        watcher.Observe("KeyboardInterrupt");
        watcher.Flush().ShouldNotBeNull().Summary.ShouldBe("KeyboardInterrupt");
    }
}
