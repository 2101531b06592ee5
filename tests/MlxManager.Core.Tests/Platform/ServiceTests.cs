using System.Diagnostics;
using System.Xml.Linq;
using MlxManager.Core.Platform.Service;

namespace MlxManager.Core.Tests.Platform;

/// <summary>The <c>service</c> verbs: the LaunchAgent plist, the systemd user unit, and what install does.</summary>
public sealed class ServiceTests : IDisposable
{
    private const string TrickyData = "/Users/Ada Lovelace/MLX & co <test>/data";
    private readonly string _home = Directory.CreateTempSubdirectory("service-home-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private static ServiceDefinition Service(string data = TrickyData, params string[] extra) =>
        ServiceDefinition.ForManager(
            ["/Applications/MLX Manager/MlxManager.Web"],
            ["--data", data, .. extra],
            new Dictionary<string, string>
            {
                ["PATH"] = "/Users/ada/.venv/bin:/usr/bin:/bin",
                ["HF_HOME"] = "/Users/ada/hf & cache",
                ["HF_TOKEN"] = "hf_secret",
                ["MlxManager__Urls"] = "http://0.0.0.0:10240",
                ["UNRELATED"] = "x",
            },
            mac: true);

    private ServiceCommand Command(StringWriter output, StringWriter error, string path = "/nonexistent") =>
        new(["/opt/mlx-manager/MlxManager.Web"], new Dictionary<string, string> { ["HOME"] = _home, ["PATH"] = path }, output, error);

    [Fact]
    public void Definition_RunsTheManagerOnItsDataFolder_WithThePathAndHfVariables_ButNotTheToken()
    {
        var service = Service(TrickyData, "--urls", "http://127.0.0.1:9000");

        service.ProgramArguments.ShouldBe(["/Applications/MLX Manager/MlxManager.Web", "--data", TrickyData, "--urls", "http://127.0.0.1:9000"]);
        service.StandardOutPath.ShouldBe(TrickyData + "/logs/service.out.log");
        service.StandardErrorPath.ShouldBe(TrickyData + "/logs/service.err.log");
        service.Environment.Select(v => v.Key).ShouldBe(["PATH", "HF_HOME", "MlxManager__Urls"]);
        service.Environment[0].Value.ShouldBe("/Users/ada/.venv/bin:/usr/bin:/bin:/opt/homebrew/bin:/usr/local/bin");
    }

    [Fact]
    public void Definition_WithoutDataArgument_UsesMlxManagerData()
    {
        var service = ServiceDefinition.ForManager(["/x/app"], [], new Dictionary<string, string> { ["MLXMANAGER_DATA"] = "/srv/mlx" }, mac: false);

        service.ProgramArguments.ShouldBe(["/x/app", "--data", "/srv/mlx"]);
        service.Environment.Single().Key.ShouldBe("PATH");
    }

    [Fact]
    public void Plist_HasEveryKey_AndEscapesPathsWithSpacesAndAmpersands()
    {
        var text = LaunchAgentPlist.Render(Service());
        var document = XDocument.Parse(text);

        document.DocumentType!.PublicId.ShouldBe("-//Apple//DTD PLIST 1.0//EN");
        text.ShouldContain("<string>/Users/Ada Lovelace/MLX &amp; co &lt;test&gt;/data</string>");
        var dict = document.Root!.Element("dict")!.Elements().ToList();
        var keys = dict.Where(e => e.Name == "key").Select(e => e.Value).ToList();
        keys.ShouldBe(["Label", "ProgramArguments", "WorkingDirectory", "RunAtLoad", "KeepAlive", "ProcessType", "StandardOutPath", "StandardErrorPath", "EnvironmentVariables"]);
        XElement After(string key) => dict[dict.FindIndex(e => e.Name == "key" && e.Value == key) + 1];
        After("Label").Value.ShouldBe("io.github.mlx-manager");
        After("ProgramArguments").Elements("string").Select(e => e.Value).ShouldBe(["/Applications/MLX Manager/MlxManager.Web", "--data", TrickyData]);
        After("RunAtLoad").Name.LocalName.ShouldBe("true");
        After("KeepAlive").Name.LocalName.ShouldBe("true");
        After("StandardErrorPath").Value.ShouldBe(TrickyData + "/logs/service.err.log");
        var environment = After("EnvironmentVariables").Elements().Select(e => e.Value).ToList();
        environment.ShouldContain("HF_HOME");
        environment.ShouldContain("/Users/ada/hf & cache");
        environment.ShouldNotContain("hf_secret");
    }

    [PlistutilFact]
    public async Task Plist_RoundTripsThroughPlistutil_ARealPropertyListParser()
    {
        var xml = Path.Combine(_home, "agent.plist");
        var binary = Path.Combine(_home, "agent.bplist");
        await File.WriteAllTextAsync(xml, LaunchAgentPlist.Render(Service()));

        (await PlistutilAsync("-i", xml, "-f", "bin", "-o", binary)).ShouldBe(0);
        var back = Path.Combine(_home, "back.plist");
        (await PlistutilAsync("-i", binary, "-f", "xml", "-o", back)).ShouldBe(0);

        var strings = XDocument.Load(back).Descendants("string").Select(e => e.Value).ToList();
        strings.ShouldContain(TrickyData);
        strings.ShouldContain("/Users/ada/hf & cache");
        strings.ShouldContain("io.github.mlx-manager");
    }

    private static async Task<int> PlistutilAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(PlistutilFactAttribute.Path!) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    [Fact]
    public void SystemdUnit_QuotesArguments_AndDoublesSpecifiersAndVariables()
    {
        var unit = SystemdUserUnit.Render(Service("/home/ada/data 100% $HOME \"q\""));

        unit.ShouldContain("ExecStart=\"/Applications/MLX Manager/MlxManager.Web\" \"--data\" \"/home/ada/data 100%% $$HOME \\\"q\\\"\"\n");
        unit.ShouldContain("Environment=\"HF_HOME=/Users/ada/hf & cache\"\n");
        unit.ShouldContain("StandardOutput=append:/home/ada/data 100%% $HOME \"q\"/logs/service.out.log\n");
        unit.ShouldContain("Restart=always\n");
        unit.ShouldContain("KillMode=process\n");
        unit.ShouldEndWith("[Install]\nWantedBy=default.target\n");
    }

    [Fact]
    public async Task InstallPrint_PrintsThePlist_AndChangesNothing()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await Command(output, error).RunAsync(["install", "--print", "--data", TrickyData], CancellationToken.None);

        exit.ShouldBe(0);
        XDocument.Parse(output.ToString()).Root!.Name.LocalName.ShouldBe("plist");
        Directory.EnumerateFileSystemEntries(_home).ShouldBeEmpty();
    }

    [Fact]
    public async Task InstallPrintSystemd_PrintsTheUnit()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        (await Command(output, error).RunAsync(["install", "--print", "--systemd", "--data", "/srv/mlx"], CancellationToken.None)).ShouldBe(0);

        output.ToString().ShouldStartWith("[Unit]\n");
        output.ToString().ShouldContain("ExecStart=\"/opt/mlx-manager/MlxManager.Web\" \"--data\" \"/srv/mlx\"\n");
    }

    [Fact]
    public async Task UnknownVerb_PrintsUsage()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        (await Command(output, error).RunAsync(["start"], CancellationToken.None)).ShouldBe(2);
        error.ToString().ShouldStartWith("usage: service install");
    }

    [LinuxFact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task InstallOnLinux_WithoutSystemctl_WritesTheUnitAndSaysSoPlainly()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var data = Path.Combine(_home, "data");

        var exit = await Command(output, error).RunAsync(["install", "--data", data], CancellationToken.None);

        exit.ShouldBe(1);
        var unit = Path.Combine(_home, ".config", "systemd", "user", "mlx-manager.service");
        File.ReadAllText(unit).ShouldContain($"\"--data\" \"{data}\"");
        (File.GetUnixFileMode(unit) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite | UnixFileMode.OtherRead)).ShouldBe(UnixFileMode.None);
        output.ToString().ShouldContain($"Wrote {unit}");
        error.ToString().ShouldStartWith("systemctl was not found on PATH: nothing was started or stopped.");
    }

    [Fact]
    public void LaunchAgent_BootstrapsIntoTheUsersGuiDomain()
    {
        var command = Command(new StringWriter(), new StringWriter());
        var agent = new LaunchAgent(Service(), command);
        var uid = ServiceCommand.GetEffectiveUserId();

        agent.PlistPath.ShouldBe(Path.Combine(_home, "Library", "LaunchAgents", "io.github.mlx-manager.plist"));
        agent.Steps("install").ShouldBe([["bootout", $"gui/{uid}/io.github.mlx-manager"], ["bootstrap", $"gui/{uid}", agent.PlistPath]]);
        agent.Steps("uninstall").ShouldBe([["bootout", $"gui/{uid}/io.github.mlx-manager"]]);
        agent.Steps("status").ShouldBe([["print", $"gui/{uid}/io.github.mlx-manager"]]);
    }

    [Fact]
    public void SystemdUser_EnablesAndStartsWithUserSystemctl()
    {
        SystemdUser.Steps("install").ShouldBe([["--user", "daemon-reload"], ["--user", "enable", "--now", "mlx-manager.service"]]);
        SystemdUser.Steps("uninstall").ShouldBe([["--user", "disable", "--now", "mlx-manager.service"], ["--user", "daemon-reload"]]);
    }
}

/// <summary>A fact that needs Debian's <c>plistutil</c> (package libplist-utils): reported as skipped where it is missing.</summary>
public sealed class PlistutilFactAttribute : FactAttribute
{
    public static readonly string? Path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(folder => System.IO.Path.Combine(folder, "plistutil")).FirstOrDefault(File.Exists);

    public PlistutilFactAttribute()
    {
        if (Path is null)
        {
            Skip = "plistutil is not installed (apt-get install libplist-utils; .ci/run installs it)";
        }
    }
}
