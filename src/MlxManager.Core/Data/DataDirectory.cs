using Microsoft.Extensions.Configuration;

namespace MlxManager.Core.Data;

/// <summary>
/// The folder where MLX Manager keeps everything it owns: the app database, the Hangfire job
/// database, logs and keys. Inject it wherever a feature needs a path of its own (download records,
/// server logs...): put files under <see cref="Root"/> via <see cref="PathFor"/>, never next to the binary.
/// </summary>
/// <remarks>
/// Resolution order (first that is set wins): the <c>--data &lt;dir&gt;</c> command-line argument,
/// the <c>MLXMANAGER_DATA</c> environment variable, the <c>MlxManager:DataDir</c> setting
/// (appsettings or <c>MlxManager__DataDir</c>), and finally <c>~/.mlx-manager</c>.
/// </remarks>
public sealed class DataDirectory
{
    /// <summary>Configuration key filled by the <c>--data</c> command-line argument.</summary>
    public const string CommandLineKey = "data";

    /// <summary>Environment variable that names the data folder.</summary>
    public const string EnvironmentVariable = "MLXMANAGER_DATA";

    /// <summary>Settings key (appsettings or <c>MlxManager__DataDir</c>).</summary>
    public const string SettingKey = "MlxManager:DataDir";

    /// <summary>Name of the folder under the user's home used when nothing else is configured.</summary>
    public const string DefaultFolderName = ".mlx-manager";

    public DataDirectory(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(ExpandHome(root));
    }

    /// <summary>Absolute path of the data folder.</summary>
    public string Root { get; }

    /// <summary>SQLite database of the app (accounts and every feature's tables).</summary>
    public string AppDatabasePath => Path.Combine(Root, "app.db");

    /// <summary>SQLite database used by Hangfire.</summary>
    public string JobsDatabasePath => Path.Combine(Root, "jobs.db");

    /// <summary>Folder for log files (the app's and, later, each model server's).</summary>
    public string LogsPath => Path.Combine(Root, "logs");

    /// <summary>Folder for secrets generated at first start (token signing key, data-protection keys).</summary>
    public string KeysPath => Path.Combine(Root, "keys");

    /// <summary>A path inside the data folder, e.g. <c>PathFor("logs", "servers")</c>.</summary>
    public string PathFor(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>Creates the folder and its standard sub-folders if they are missing.</summary>
    public void EnsureCreated()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(LogsPath);
        CreatePrivateDirectory(KeysPath);
    }

    /// <summary>Resolves the data folder from configuration (see the class remarks for the order).</summary>
    public static DataDirectory FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = new[]
            {
                configuration[CommandLineKey],
                configuration[EnvironmentVariable],
                configuration[SettingKey],
            }
            .FirstOrDefault(value => !string.IsNullOrWhiteSpace(value));
        return new DataDirectory(configured ?? Path.Combine("~", DefaultFolderName));
    }

    private static string ExpandHome(string path)
    {
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return path.Length == 1 ? home : Path.Combine(home, path[2..]);
        }
        return path;
    }

    // Keys are secrets: on Unix only the owner may list or read them.
    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
