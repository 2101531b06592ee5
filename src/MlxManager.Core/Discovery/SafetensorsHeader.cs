using System.Buffers.Binary;
using System.Text.Json;

namespace MlxManager.Core.Discovery;

/// <summary>One tensor entry of a safetensors header.</summary>
public sealed record SafetensorsTensor(string Name, string Dtype, IReadOnlyList<long> Shape, long DataStart, long DataEnd)
{
    /// <summary>Number of stored elements (product of the shape; 1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (count, dim) => count * dim);
}

/// <summary>
/// The header of a safetensors file: 8 bytes little-endian header length N, then N bytes of JSON mapping tensor
/// names to <c>{dtype, shape, data_offsets}</c>, plus an optional <c>__metadata__</c> string map.
/// </summary>
public sealed record SafetensorsHeader(long HeaderLength, IReadOnlyList<SafetensorsTensor> Tensors, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The format's own upper bound on the header (100 MB).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>Bytes of tensor data after the header (largest end offset).</summary>
    public long DataLength => Tensors.Count == 0 ? 0 : Tensors.Max(t => t.DataEnd);

    /// <summary>The size the whole file must have: 8 + header + data.</summary>
    public long ExpectedFileSize => 8 + HeaderLength + DataLength;

    /// <summary>The header length announced by the first 8 bytes, or null when fewer than 8 bytes are given.</summary>
    public static long? ReadHeaderLength(ReadOnlySpan<byte> prefix) =>
        prefix.Length < 8 ? null : (long)BinaryPrimitives.ReadUInt64LittleEndian(prefix);

    /// <summary>Parses a header from the start of a file (the 8 length bytes included).</summary>
    /// <exception cref="FormatException">When the bytes are not a complete, valid safetensors header.</exception>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> prefix)
    {
        if (ReadHeaderLength(prefix) is not { } length)
        {
            throw new FormatException("fewer than 8 bytes: no header length");
        }

        if (length is <= 1 or > MaxHeaderLength)
        {
            throw new FormatException($"header length {length} is outside 2..{MaxHeaderLength}");
        }

        if (prefix.Length < 8 + length)
        {
            throw new FormatException($"header needs {8 + length} bytes, only {prefix.Length} available");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(prefix.Slice(8, (int)length).ToArray());
        }
        catch (JsonException exception)
        {
            throw new FormatException($"header is not valid JSON: {exception.Message}", exception);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("header is not a JSON object");
            }

            var tensors = new List<SafetensorsTensor>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var entry in property.Value.EnumerateObject())
                        {
                            metadata[entry.Name] = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : entry.Value.GetRawText();
                        }
                    }

                    continue;
                }

                tensors.Add(ParseTensor(property));
            }

            return new SafetensorsHeader(length, tensors, metadata);
        }
    }

    /// <summary>Like <see cref="Parse"/> but reports failure as a message.</summary>
    public static bool TryParse(ReadOnlySpan<byte> prefix, out SafetensorsHeader? header, out string? error)
    {
        try
        {
            header = Parse(prefix);
            error = null;
            return true;
        }
        catch (FormatException exception)
        {
            header = null;
            error = exception.Message;
            return false;
        }
    }

    private static SafetensorsTensor ParseTensor(JsonProperty property)
    {
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            throw new FormatException($"tensor {property.Name} lacks dtype, shape or data_offsets");
        }

        var dims = new List<long>();
        foreach (var dim in shape.EnumerateArray())
        {
            if (!dim.TryGetInt64(out var size) || size < 0)
            {
                throw new FormatException($"tensor {property.Name} has an invalid shape");
            }

            dims.Add(size);
        }

        if (!offsets[0].TryGetInt64(out var start) || !offsets[1].TryGetInt64(out var end) || start < 0 || end < start)
        {
            throw new FormatException($"tensor {property.Name} has invalid data_offsets");
        }

        return new SafetensorsTensor(property.Name, dtype.GetString()!, dims, start, end);
    }
}
