using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace MlxManager.ModelFixtures;

/// <summary>Writes safetensors files: an 8-byte little-endian header length, a JSON header (dtype, shape,
/// data_offsets per tensor, <c>__metadata__</c>) padded to 8 bytes, then the tensor bytes. The bytes are a
/// deterministic pseudo-random stream seeded per file, so the same fixture always has the same sha256.</summary>
public static class SafetensorsWriter
{
    public static void Write(string file, IReadOnlyList<TensorEntry> tensors, string seed)
    {
        var header = new Dictionary<string, object>
        {
            ["__metadata__"] = new Dictionary<string, string> { ["format"] = "mlx" },
        };
        long offset = 0;
        foreach (var t in tensors)
        {
            header[t.Name] = new { dtype = t.Dtype, shape = t.Shape, data_offsets = new[] { offset, offset + t.Bytes } };
            offset += t.Bytes;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;

        using var stream = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(json);
        for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        WritePseudoRandom(stream, offset, seed);
    }

    static void WritePseudoRandom(Stream stream, long count, string seed)
    {
        ulong state = 0xcbf29ce484222325;
        foreach (var b in Encoding.UTF8.GetBytes(seed)) state = (state ^ b) * 0x100000001b3;
        if (state == 0) state = 1;

        var buffer = new byte[1 << 20];
        var words = MemoryMarshal.Cast<byte, ulong>(buffer.AsSpan());
        while (count > 0)
        {
            for (int i = 0; i < words.Length; i++)
            {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                words[i] = state * 0x2545F4914F6CDD1D;
            }
            int n = (int)Math.Min(buffer.Length, count);
            stream.Write(buffer, 0, n);
            count -= n;
        }
    }

    /// <summary>Reads the JSON header of a safetensors file (for tests and the emulators).</summary>
    public static JsonDocument ReadHeader(string file)
    {
        using var stream = File.OpenRead(file);
        Span<byte> length = stackalloc byte[8];
        stream.ReadExactly(length);
        var size = BinaryPrimitives.ReadUInt64LittleEndian(length);
        if (size > 100_000_000) throw new InvalidDataException($"{file}: header length {size} is implausible");
        var json = new byte[size];
        stream.ReadExactly(json);
        return JsonDocument.Parse(json);
    }
}
