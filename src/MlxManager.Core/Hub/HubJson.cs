using System.Globalization;
using System.Text.Json;

namespace MlxManager.Core.Hub;

/// <summary>Reads the Hub's JSON answers leniently: a missing or oddly typed optional field becomes null, never an error.</summary>
internal static class HubJson
{
    public static IReadOnlyList<HubModel> ReadModels(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("a search answer must be a JSON array");
        }

        return root.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).Select(ReadModel).ToList();
    }

    public static HubModel ReadModel(JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("a model must be a JSON object");
        }

        var id = String(item, "id") ?? String(item, "modelId") ?? throw new FormatException("a model has no id");
        var author = String(item, "author") ?? (id.Contains('/', StringComparison.Ordinal) ? id[..id.IndexOf('/', StringComparison.Ordinal)] : string.Empty);
        IReadOnlyDictionary<string, long>? parameters = null;
        long? total = null;
        if (item.TryGetProperty("safetensors", out var safetensors) && safetensors.ValueKind == JsonValueKind.Object)
        {
            if (safetensors.TryGetProperty("parameters", out var counts) && counts.ValueKind == JsonValueKind.Object)
            {
                parameters = counts.EnumerateObject()
                    .Where(p => p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out _))
                    .ToDictionary(p => p.Name, p => p.Value.GetInt64(), StringComparer.Ordinal);
            }

            total = Long(safetensors, "total");
        }

        var gated = item.TryGetProperty("gated", out var g) && g.ValueKind == JsonValueKind.String && g.GetString() is { Length: > 0 } mode && mode != "false" ? mode : null;
        var siblings = item.TryGetProperty("siblings", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.Object && String(s, "rfilename") is not null)
                .Select(s => new HubSibling(
                    String(s, "rfilename")!,
                    Long(s, "size") ?? (s.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object ? Long(lfs, "size") : null),
                    String(s, "blobId"),
                    s.TryGetProperty("lfs", out var l) && l.ValueKind == JsonValueKind.Object ? String(l, "sha256") : null))
                .ToList()
            : [];

        return new HubModel(
            id,
            author,
            String(item, "sha"),
            Long(item, "downloads") ?? 0,
            Long(item, "likes") ?? 0,
            Time(item, "lastModified"),
            Time(item, "createdAt"),
            item.TryGetProperty("trendingScore", out var trending) && trending.ValueKind == JsonValueKind.Number ? trending.GetDouble() : 0,
            item.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array
                ? tags.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList()
                : [],
            String(item, "pipeline_tag"),
            String(item, "library_name"),
            gated,
            item.TryGetProperty("private", out var priv) && priv.ValueKind == JsonValueKind.True,
            Long(item, "usedStorage"),
            parameters,
            total,
            siblings);
    }

    public static IReadOnlyList<HubTreeEntry> ReadTree(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("a tree answer must be a JSON array");
        }

        var entries = new List<HubTreeEntry>();
        foreach (var item in root.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object))
        {
            var path = String(item, "path") ?? throw new FormatException("a tree entry has no path");
            var lfs = item.TryGetProperty("lfs", out var l) && l.ValueKind == JsonValueKind.Object ? l : (JsonElement?)null;
            entries.Add(new HubTreeEntry(
                path,
                String(item, "type") == "directory",
                Long(item, "size") ?? (lfs is { } pointer ? Long(pointer, "size") : null) ?? 0,
                String(item, "oid"),
                lfs is { } info ? String(info, "oid") ?? String(info, "sha256") : null));
        }

        return entries;
    }

    private static string? String(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Long(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;

    private static DateTimeOffset? Time(JsonElement item, string name) =>
        String(item, name) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}
