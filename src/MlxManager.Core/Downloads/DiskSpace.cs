namespace MlxManager.Core.Downloads;

/// <summary>Free space on the volume holding a folder, so a download can refuse to start when it would not fit.</summary>
public interface IDiskSpace
{
    /// <summary>Bytes available to this process on the volume of <paramref name="path"/> (an existing folder).</summary>
    /// <exception cref="IOException">When the volume cannot be asked.</exception>
    long AvailableBytes(string path);
}

/// <summary>The operating system's answer (<c>statvfs</c> on Unix, <c>GetDiskFreeSpaceEx</c> on Windows).</summary>
public sealed class VolumeDiskSpace : IDiskSpace
{
    public long AvailableBytes(string path)
    {
        var full = Path.GetFullPath(path);

        // On Unix DriveInfo asks statvfs about the path itself, so any folder on the volume works.
        var drive = OperatingSystem.IsWindows() ? new DriveInfo(Path.GetPathRoot(full)!) : new DriveInfo(full);
        return drive.AvailableFreeSpace;
    }
}
