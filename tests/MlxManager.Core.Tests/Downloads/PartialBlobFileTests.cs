using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using MlxManager.Core.Downloads;
using MlxManager.Testing;

namespace MlxManager.Core.Tests.Downloads;

/// <summary>
/// The disk a partial blob reserves: all of it when the transfer starts, none past its end once it stops short. Checked
/// with the blocks the file system reports (<c>stat</c>), so these run on Linux.
/// </summary>
public sealed class PartialBlobFileTests : IDisposable
{
    private const long Size = 32L * 1024 * 1024;

    private readonly string _folder = Directory.CreateTempSubdirectory("mlxm-partial-blob-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [LinuxFact("/usr/bin/stat")]
    public void Open_ANewFile_ReservesItsWholeSize_WhileItsLengthStaysZero()
    {
        var path = Path.Combine(_folder, "a.incomplete");

        using (var handle = PartialBlobFile.Open(path, Size))
        {
            RandomAccess.GetLength(handle).ShouldBe(0, "a resume starts after the bytes in the file, so reserving must not add any");
        }

        AllocatedBytes(path).ShouldBeGreaterThanOrEqualTo(Size);
    }

    [LinuxFact("/usr/bin/stat")]
    public void Open_AnExistingPartialFile_KeepsItsBytes_AndReservesNothingMore()
    {
        var path = Path.Combine(_folder, "b.incomplete");
        var bytes = RandomNumberGenerator.GetBytes(100_000);
        File.WriteAllBytes(path, bytes);

        using (var handle = PartialBlobFile.Open(path, Size))
        {
            RandomAccess.GetLength(handle).ShouldBe(bytes.Length);
        }

        File.ReadAllBytes(path).ShouldBe(bytes);
        AllocatedBytes(path).ShouldBeLessThan(1024 * 1024);
    }

    [LinuxFact("/usr/bin/stat")]
    public void ReleaseReservation_GivesBackTheBlocksPastTheEnd_AndKeepsTheBytes()
    {
        var path = Path.Combine(_folder, "c.incomplete");
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        using (var handle = PartialBlobFile.Open(path, Size))
        {
            RandomAccess.Write(handle, bytes, 0);
        }

        AllocatedBytes(path).ShouldBeGreaterThanOrEqualTo(Size, "closing the file keeps the reservation (as a killed process would)");

        PartialBlobFile.ReleaseReservation(path);

        AllocatedBytes(path).ShouldBeLessThan(bytes.Length + 1024 * 1024);
        File.ReadAllBytes(path).ShouldBe(bytes);
    }

    [Fact]
    public void ReleaseReservation_OfAFileThatIsNotThere_DoesNothing()
    {
        var path = Path.Combine(_folder, "gone.incomplete");

        PartialBlobFile.ReleaseReservation(path);

        File.Exists(path).ShouldBeFalse();
    }

    [LinuxFact]
    public void Open_AFileTheDiskCannotHold_FailsAtOnceWithTheReason_AndLeavesNoFile()
    {
        var path = Path.Combine(_folder, "huge.incomplete");

        // 1 PiB: beyond what the file system takes, refused before any block is allocated.
        var failure = Should.Throw<DownloadFailedException>(() => PartialBlobFile.Open(path, 1L << 50));

        failure.Message.ShouldStartWith($"Cannot write {path}: ");
        failure.Message.ShouldContain("allocation size");
        File.Exists(path).ShouldBeFalse();
    }

    /// <summary>Bytes the file system has allocated to <paramref name="path"/> (<c>stat</c>'s blocks × block size), past its end included.</summary>
    internal static long AllocatedBytes(string path)
    {
        var start = new ProcessStartInfo("/usr/bin/stat") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", "%b %B", path })
        {
            start.ArgumentList.Add(argument);
        }

        using var stat = Process.Start(start)!;
        var output = stat.StandardOutput.ReadToEnd().Split(' ', StringSplitOptions.TrimEntries);
        stat.WaitForExit();
        stat.ExitCode.ShouldBe(0);
        return long.Parse(output[0], CultureInfo.InvariantCulture) * long.Parse(output[1], CultureInfo.InvariantCulture);
    }
}
