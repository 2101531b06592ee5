using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Data;

namespace MlxManager.Core.Accounts;

/// <summary>
/// The secret that signs API tokens (JWT, HMAC-SHA256). Generated at first start and kept in the
/// data folder's <c>keys/</c>, so tokens survive a restart and every installation has its own key.
/// There is no built-in fallback: if the file cannot be read or written, start-up fails.
/// </summary>
public sealed partial class ApiSigningKey
{
    /// <summary>File name of the key inside <see cref="DataDirectory.KeysPath"/>.</summary>
    public const string FileName = "api-token-signing.key";

    private const int KeyBytes = 64;

    public ApiSigningKey(DataDirectory dataDirectory, ILogger<ApiSigningKey> logger)
    {
        dataDirectory.EnsureCreated();
        FilePath = Path.Combine(dataDirectory.KeysPath, FileName);
        if (!File.Exists(FilePath))
        {
            CreateKeyFile(FilePath, logger);
        }
        Bytes = Convert.FromBase64String(File.ReadAllText(FilePath).Trim());
        if (Bytes.Length < 32)
        {
            throw new InvalidOperationException($"The API signing key in {FilePath} is too short; delete the file to generate a new one.");
        }
    }

    /// <summary>Where the key is stored.</summary>
    public string FilePath { get; }

    /// <summary>The key material.</summary>
    public byte[] Bytes { get; }

    private static void CreateKeyFile(string path, ILogger logger)
    {
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes)));
        }
        try
        {
            // Two processes starting at once: the first rename wins, the other keeps the winner's key.
            File.Move(temporary, path, overwrite: false);
            LogCreated(logger, path);
        }
        catch (IOException exception) when (File.Exists(path))
        {
            LogCreatedElsewhere(logger, path, exception.Message);
            File.Delete(temporary);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Generated a new API token signing key at {Path}")]
    private static partial void LogCreated(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Another process created the API signing key at {Path} first; using it ({Detail})")]
    private static partial void LogCreatedElsewhere(ILogger logger, string path, string detail);
}
