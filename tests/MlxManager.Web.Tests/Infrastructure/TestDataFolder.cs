namespace MlxManager.Web.Tests.Infrastructure;

/// <summary>A fresh data folder under the system temp folder, deleted on dispose.</summary>
public sealed class TestDataFolder : IDisposable
{
    public TestDataFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlx-manager-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        // SQLite pools may hold the files for a moment after the host stops; clear them first.
        if (!Directory.Exists(Path))
        {
            return;
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException exception)
        {
            // Leave it for the OS temp cleaner rather than fail a test on cleanup.
            Console.Error.WriteLine($"Could not delete test data folder {Path}: {exception.Message}");
        }
    }
}
