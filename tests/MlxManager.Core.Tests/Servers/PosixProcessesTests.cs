using MlxManager.Core.Servers.Processes;
using MlxManager.Core.Tests.Library;

namespace MlxManager.Core.Tests.Servers;

public sealed class PosixProcessesTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [LinuxFact]
    public async Task Spawn_StartsTheProgramInItsOwnSession_WritingIntoTheFile_InTheFolder_WithTheEnvironment()
    {
        var output = _folder.Combine("out.log");
        var pid = PosixProcesses.Spawn(new DetachedLaunch(
            "/bin/sh",
            ["-c", "echo \"cwd=$(pwd) greeting=$GREETING\"; echo oops >&2; read line; echo \"stdin=[$line]\"; exit 3"],
            new Dictionary<string, string> { ["GREETING"] = "hello world", ["PATH"] = "/usr/bin:/bin" },
            _folder.Path,
            output));

        var exit = await ReapAsync(pid);

        exit.ShouldBe(new ProcessExit(3, null));
        File.ReadAllLines(output).ShouldBe([$"cwd={_folder.Path} greeting=hello world", "oops", "stdin=[]"]);
    }

    [LinuxFact]
    public async Task Spawn_GivesTheChildASessionOfItsOwn_AndDefaultSignals()
    {
        var pid = PosixProcesses.Spawn(new DetachedLaunch("/bin/sleep", ["30"], new Dictionary<string, string>(), _folder.Path, _folder.Combine("o.log")));
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            int.Parse(fields[2]).ShouldBe(pid, "process group = its own pid");
            int.Parse(fields[3]).ShouldBe(pid, "session = its own pid (setsid)");
            var status = File.ReadAllLines($"/proc/{pid}/status");
            // SIGPIPE (13, bit 12) must not stay ignored as in the .NET parent, nor any signal blocked.
            var ignored = Convert.ToUInt64(status.Single(l => l.StartsWith("SigIgn:", StringComparison.Ordinal))[7..].Trim(), 16);
            (ignored & (1UL << 12)).ShouldBe(0UL);
            (ignored & 0x7FFF_FFFFUL).ShouldBe(0UL, "no standard signal (1-31) is ignored");
            status.Single(l => l.StartsWith("SigBlk:", StringComparison.Ordinal)).ShouldEndWith("0000000000000000");
            PosixProcesses.TryReap(pid, out var isChild).ShouldBeNull();
            isChild.ShouldBeTrue();
        }
        finally
        {
            PosixProcesses.SignalGroup(pid, PosixProcesses.SigKill).ShouldBeTrue();
        }

        (await ReapAsync(pid)).ShouldBe(new ProcessExit(null, 9));
        PosixProcesses.TryReap(pid, out var stillChild).ShouldBeNull();
        stillChild.ShouldBeFalse("once reaped it is nobody's child");
    }

    [LinuxFact]
    public void Spawn_OfAMissingProgram_ThrowsWithTheReason()
    {
        var error = Should.Throw<System.ComponentModel.Win32Exception>(() =>
            PosixProcesses.Spawn(new DetachedLaunch(_folder.Combine("nope"), [], new Dictionary<string, string>(), _folder.Path, _folder.Combine("o.log"))));

        error.Message.ShouldContain("nope");
        error.NativeErrorCode.ShouldBe(2);
    }

    [Fact]
    public void Describe_SaysHowTheProcessEnded()
    {
        new ProcessExit(1, null).Describe().ShouldBe("exited with code 1");
        new ProcessExit(null, 9).Describe().ShouldBe("was killed by signal 9 (SIGKILL)");
        new ProcessExit(null, 6).Describe().ShouldBe("was killed by signal 6 (SIGABRT)");
        ProcessExit.Unknown.Describe().ShouldStartWith("ended (its exit status is unknown");
    }

    private static async Task<ProcessExit> ReapAsync(int pid)
    {
        for (var i = 0; i < 400; i++)
        {
            if (PosixProcesses.TryReap(pid, out _) is { } exit)
            {
                return exit;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"pid {pid} did not end");
    }
}
