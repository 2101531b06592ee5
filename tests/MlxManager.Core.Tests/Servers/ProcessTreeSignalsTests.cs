using Microsoft.Extensions.Options;
using MlxManager.Core.Metrics;
using MlxManager.Core.Servers;
using MlxManager.Core.Servers.Processes;
using MlxManager.Core.Tests.Library;
using MlxManager.Core.Tests.Servers.Infrastructure;

namespace MlxManager.Core.Tests.Servers;

/// <summary>Real process trees: a session leader with a child in its group and a child that left it.</summary>
public sealed class ProcessTreeSignalsTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();
    private readonly IProcessTable _table = new SharedProcessTable(ProcessTable.ForCurrentPlatform());

    public void Dispose() => _folder.Dispose();

    [LinuxFact]
    public async Task SignalTree_EndsTheGroup_AndTheDescendantsThatLeftIt()
    {
        var signals = NewSignals();
        var root = Spawn("sleep 300 & setsid sleep 301 & wait");
        var identity = _table.Identify(root)!.Value;
        IReadOnlyList<ProcessIdentity> tree = [];
        // Both children are seen as soon as the shell forks them, but the second leaves the group only once setsid runs.
        await EngineProcesses.WaitUntilAsync(
            () => (tree = signals.CollectTree(identity)).Count == 3 && tree.Count(p => p != identity && GroupOf(p.Pid) != root) == 1,
            TimeSpan.FromSeconds(10),
            "both sleeps started, one in a session of its own");
        var leftTheGroup = tree.Single(p => p != identity && GroupOf(p.Pid) != root);

        var signalled = signals.SignalTree(identity, tree, PosixProcesses.SigTerm);

        signalled.ShouldBeGreaterThanOrEqualTo(2, "the group, and the descendant outside it by its own id");
        await EngineProcesses.WaitUntilAsync(() => PosixProcesses.TryReap(root, out _) is not null, TimeSpan.FromSeconds(10), "the leader ended");
        await EngineProcesses.WaitUntilAsync(() => tree.All(p => !_table.IsRunning(p)), TimeSpan.FromSeconds(10), "every descendant ended");
        _table.IsRunning(leftTheGroup).ShouldBeFalse("no group signal reaches it: it was signalled by its own id");
        signals.CollectTree(identity).ShouldBeEmpty("the root is gone");
    }

    [LinuxFact]
    public async Task CleanUpGroup_EndsWhatAnEndedLeaderLeftInItsGroup()
    {
        var signals = NewSignals();
        var root = Spawn("sleep 302 & echo $! > child; exit 0");
        await EngineProcesses.WaitUntilAsync(() => PosixProcesses.TryReap(root, out _) is not null, TimeSpan.FromSeconds(10), "the leader exited");
        var child = _table.Identify(int.Parse(await File.ReadAllTextAsync(_folder.Combine("child"))))!.Value;
        GroupOf(child.Pid).ShouldBe(root);

        await signals.CleanUpGroupAsync(root);

        await EngineProcesses.WaitUntilAsync(() => !_table.IsRunning(child), TimeSpan.FromSeconds(10), "the leftover child ended");
        PosixProcesses.SignalGroup(root, 0).ShouldBeFalse("nothing is left in the group");
    }

    private ProcessTreeSignals NewSignals() => new(
        _table,
        TimeProvider.System,
        Options.Create(new ServerOptions { StopGracePeriod = TimeSpan.FromSeconds(5) }),
        new RecordingLogger<ProcessTreeSignals>());

    private int Spawn(string script) => PosixProcesses.Spawn(new DetachedLaunch(
        "/bin/sh", ["-c", script], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, _folder.Path, _folder.Combine("out.log")));

    private static int GroupOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2]);
    }
}
