using Microsoft.Extensions.Configuration;
using MlxManager.Core.Data;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Core.Data;

public sealed class DataDirectoryTests
{
    private static IConfiguration Configuration(string[] args, Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).AddCommandLine(args).Build();

    [Fact]
    public void FromConfiguration_Nothing_DefaultsToDotMlxManagerInHome()
    {
        var directory = DataDirectory.FromConfiguration(Configuration([], []));

        directory.Root.ShouldBe(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".mlx-manager"));
        directory.AppDatabasePath.ShouldBe(Path.Combine(directory.Root, "app.db"));
        directory.JobsDatabasePath.ShouldBe(Path.Combine(directory.Root, "jobs.db"));
        directory.LogsPath.ShouldBe(Path.Combine(directory.Root, "logs"));
        directory.KeysPath.ShouldBe(Path.Combine(directory.Root, "keys"));
    }

    [Fact]
    public void FromConfiguration_DataArgument_WinsOverEnvironmentAndSettings()
    {
        var directory = DataDirectory.FromConfiguration(Configuration(["--data", "/tmp/from-arg"], new()
        {
            ["MLXMANAGER_DATA"] = "/tmp/from-env",
            ["MlxManager:DataDir"] = "/tmp/from-settings",
        }));

        directory.Root.ShouldBe("/tmp/from-arg");
    }

    [Fact]
    public void FromConfiguration_EnvironmentVariable_WinsOverSettings()
    {
        var directory = DataDirectory.FromConfiguration(Configuration([], new()
        {
            ["MLXMANAGER_DATA"] = "/tmp/from-env",
            ["MlxManager:DataDir"] = "/tmp/from-settings",
        }));

        directory.Root.ShouldBe("/tmp/from-env");
    }

    [Fact]
    public void FromConfiguration_RealEnvironmentVariables_AreHonoured()
    {
        var variable = "MlxManager__DataDir";
        var previous = Environment.GetEnvironmentVariable(variable);
        try
        {
            Environment.SetEnvironmentVariable(variable, "/tmp/from-double-underscore");
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();

            DataDirectory.FromConfiguration(configuration).Root.ShouldBe("/tmp/from-double-underscore");
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, previous);
        }
    }

    [Fact]
    public void Constructor_ExpandsTildeAndMakesThePathAbsolute()
    {
        new DataDirectory("~/models-data").Root.ShouldBe(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "models-data"));
        Path.IsPathRooted(new DataDirectory("relative/data").Root).ShouldBeTrue();
    }

    [Fact]
    public void EnsureCreated_MakesLogsAndPrivateKeysFolders()
    {
        using var folder = new TestDataFolder();
        var directory = new DataDirectory(Path.Combine(folder.Path, "nested"));

        directory.EnsureCreated();

        Directory.Exists(directory.LogsPath).ShouldBeTrue();
        Directory.Exists(directory.KeysPath).ShouldBeTrue();
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(directory.KeysPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        directory.PathFor("logs", "servers").ShouldBe(Path.Combine(directory.Root, "logs", "servers"));
    }
}
