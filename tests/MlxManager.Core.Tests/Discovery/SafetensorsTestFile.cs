using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace MlxManager.Core.Tests.Discovery;

/// <summary>Writes real safetensors files: 8-byte little-endian header length, JSON header padded to 8 bytes, zeroed data.</summary>
internal static class SafetensorsTestFile
{
    public sealed record Tensor(string Name, string Dtype, params long[] Shape);

    private static readonly Dictionary<string, int> ElementBytes = new()
    {
        ["F64"] = 8, ["I64"] = 8, ["U64"] = 8,
        ["F32"] = 4, ["I32"] = 4, ["U32"] = 4,
        ["F16"] = 2, ["BF16"] = 2, ["I16"] = 2, ["U16"] = 2,
        ["U8"] = 1, ["I8"] = 1, ["BOOL"] = 1, ["F8_E4M3"] = 1,
    };

    public static byte[] Build(IEnumerable<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var json = new MemoryStream();
        long offset = 0;
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is not null)
            {
                writer.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
            }

            foreach (var tensor in tensors)
            {
                var bytes = tensor.Shape.Aggregate(1L, (a, b) => a * b) * ElementBytes[tensor.Dtype];
                writer.WriteStartObject(tensor.Name);
                writer.WriteString("dtype", tensor.Dtype);
                writer.WriteStartArray("shape");
                foreach (var dim in tensor.Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + bytes);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += bytes;
            }

            writer.WriteEndObject();
        }

        var header = Encoding.UTF8.GetString(json.ToArray());
        header = header.PadRight((header.Length + 7) / 8 * 8);
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + headerBytes.Length + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)headerBytes.Length);
        headerBytes.CopyTo(file, 8);
        return file;
    }

    public static void Write(string path, IEnumerable<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, Build(tensors, metadata));
    }

    /// <summary>An MLX-style quantized linear layer: U32 packed weight, BF16 scales and biases.</summary>
    public static IEnumerable<Tensor> QuantizedLinear(string module, long outputs, long inputs, int bits, int groupSize = 64) =>
    [
        new Tensor(module + ".weight", "U32", outputs, inputs * bits / 32),
        new Tensor(module + ".scales", "BF16", outputs, inputs / groupSize),
        new Tensor(module + ".biases", "BF16", outputs, inputs / groupSize),
    ];
}
