using MlxManager.Core.Servers;

namespace MlxManager.Core.Tests.Servers;

public sealed class TracebackSummaryTests
{
    [Fact]
    public void LastException_ReadsThePlainPythonTraceback()
    {
        string[] lines =
        [
            "Loading model",
            "Traceback (most recent call last):",
            "  File \"/x/mlx_lm/utils.py\", line 193, in _get_classes",
            "    raise ValueError(msg)",
            "ValueError: Model type frobnicator not supported.",
        ];

        TracebackSummary.LastException(lines).ShouldBe("ValueError: Model type frobnicator not supported.");
    }

    [Fact]
    public void LastException_ReadsUvicornsPrefixedTraceback_NotItsLogLine()
    {
        string[] lines =
        [
            "ERROR:    Traceback (most recent call last):",
            "  File \"/x/starlette/routing.py\", line 694, in lifespan",
            "huggingface_hub.errors.LocalEntryNotFoundError: Cannot find the requested files in the disk cache.",
            "ERROR:    Application startup failed. Exiting.",
        ];

        TracebackSummary.LastException(lines).ShouldBe("huggingface_hub.errors.LocalEntryNotFoundError: Cannot find the requested files in the disk cache.");
    }

    [Fact]
    public void LastException_IgnoresErrorWordsOutsideATraceback()
    {
        string[] lines = ["2026-11-26 14:25:41,696 - ERROR - Model type frobnicator not supported.", "RuntimeError: not in a traceback"];

        TracebackSummary.LastException(lines).ShouldBeNull();
    }
}
