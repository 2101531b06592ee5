using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Text.Json;

namespace MlxManager.EngineEmulator.Models;

/// <summary>Weights held in memory the way a loaded model holds them: every weight file memory-mapped and
/// every 4 KiB page read once, so the process's resident set really grows by the weights' size. The mappings
/// stay open until <see cref="Dispose"/> (a model swap or exit).</summary>
public sealed class WeightMemory : IDisposable
{
    const int PageSize = 4096;
    const long ChunkBytes = 1 << 20;

    readonly List<(MemoryMappedFile File, MemoryMappedViewAccessor View)> mappings = [];

    /// <summary>Bytes mapped and touched so far.</summary>
    public long ResidentBytes { get; private set; }

    /// <summary>A checksum of the touched bytes, so the reads can't be optimised away.</summary>
    public long Checksum { get; private set; }

    /// <summary>Maps and touches the files, pacing to <paramref name="bytesPerSecond"/>.</summary>
    public static WeightMemory Load(IReadOnlyList<string> files, double bytesPerSecond, CancellationToken cancellationToken)
    {
        var memory = new WeightMemory();
        try
        {
            var clock = Stopwatch.StartNew();
            foreach (var file in files)
            {
                var length = FileLength(file);
                if (length == 0) continue;
                var mapped = MemoryMappedFile.CreateFromFile(file, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
                var view = mapped.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
                memory.mappings.Add((mapped, view));
                for (long chunk = 0; chunk < length; chunk += ChunkBytes)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    long end = Math.Min(length, chunk + ChunkBytes);
                    long sum = 0;
                    for (long offset = chunk; offset < end; offset += PageSize) sum += view.ReadByte(offset);
                    memory.Checksum += sum;
                    memory.ResidentBytes += end - chunk;
                    var due = TimeSpan.FromSeconds(memory.ResidentBytes / bytesPerSecond);
                    if (due > clock.Elapsed) Thread.Sleep(due - clock.Elapsed);
                }
            }
            return memory;
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <summary>The size of the file's contents. HF cache snapshots hold relative symlinks to blobs, and
    /// <see cref="FileInfo.Length"/> of a symlink is the link's own size, so the file is opened instead.</summary>
    public static long FileLength(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        return stream.Length;
    }

    public void Dispose()
    {
        foreach (var (file, view) in mappings)
        {
            view.Dispose();
            file.Dispose();
        }
        mappings.Clear();
        ResidentBytes = 0;
    }
}

/// <summary>Reads a safetensors header (8-byte little-endian length, then JSON) the way mx.load checks it.</summary>
public static class SafetensorsHeader
{
    /// <summary>Returns null when the file is well-formed, else the message mlx's loader would raise.</summary>
    public static string? Problem(string file)
    {
        using var stream = File.OpenRead(file);
        var lengthBytes = new byte[8];
        if (stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8)
            return $"[load_safetensors] Failed to read header length from {file}";
        var headerLength = BitConverter.ToInt64(lengthBytes);
        if (headerLength <= 0 || headerLength > 100_000_000 || 8 + headerLength > stream.Length)
            return $"[load_safetensors] Invalid json header length {file}";
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataEnd = 0;
        try
        {
            using var json = JsonDocument.Parse(header);
            foreach (var tensor in json.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__"))
            {
                var offsets = tensor.Value.GetProperty("data_offsets");
                dataEnd = Math.Max(dataEnd, offsets[1].GetInt64());
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            return $"[load_safetensors] Invalid json header {file}";
        }
        return 8 + headerLength + dataEnd > stream.Length
            ? $"[load_safetensors] Failed to read {8 + headerLength + dataEnd - stream.Length} bytes of tensor data from {file}: the file is truncated"
            : null;
    }
}
