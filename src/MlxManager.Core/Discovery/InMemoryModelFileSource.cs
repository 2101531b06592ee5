namespace MlxManager.Core.Discovery;

/// <summary>
/// Files of a Hub repository as a detection job fetched them: the full file list with sizes (from the tree or
/// <c>siblings</c>), the text of the small metadata files, and optionally the first bytes of weight files
/// (safetensors headers obtained with a Range request). A file that is listed but whose text was not supplied
/// is treated as "not read", not as absent.
/// </summary>
public sealed class InMemoryModelFileSource : IModelFileSource
{
    private readonly IReadOnlyList<ModelFileEntry> _files;
    private readonly Dictionary<string, string> _texts;
    private readonly Dictionary<string, byte[]> _prefixes;

    public InMemoryModelFileSource(
        string? repoId,
        IEnumerable<ModelFileEntry> files,
        IReadOnlyDictionary<string, string>? texts = null,
        IReadOnlyDictionary<string, byte[]>? prefixes = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        RepoId = repoId;
        _texts = texts is null ? new(StringComparer.Ordinal) : new(texts, StringComparer.Ordinal);
        _prefixes = prefixes is null ? new(StringComparer.Ordinal) : new(prefixes, StringComparer.Ordinal);

        var list = files.ToList();
        // Texts handed in without a listing entry are still files of the repo.
        foreach (var path in _texts.Keys.Where(p => list.All(f => f.Path != p)))
        {
            list.Add(new ModelFileEntry(path, System.Text.Encoding.UTF8.GetByteCount(_texts[path])));
        }

        _files = list;
    }

    /// <summary>A source made only of texts, e.g. a config and a template; sizes are the texts' lengths.</summary>
    public static InMemoryModelFileSource FromTexts(IReadOnlyDictionary<string, string> texts, string? repoId = null) =>
        new(repoId, [], texts);

    public string? RepoId { get; }

    public ValueTask<IReadOnlyList<ModelFileEntry>> ListFilesAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_files);

    public ValueTask<string?> ReadTextAsync(string path, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_texts.TryGetValue(path, out var text) ? text : null);

    public ValueTask<ReadOnlyMemory<byte>?> ReadPrefixAsync(string path, int maxBytes, CancellationToken cancellationToken = default)
    {
        if (!_prefixes.TryGetValue(path, out var bytes))
        {
            return ValueTask.FromResult<ReadOnlyMemory<byte>?>(null);
        }

        return ValueTask.FromResult<ReadOnlyMemory<byte>?>(new ReadOnlyMemory<byte>(bytes, 0, Math.Min(maxBytes, bytes.Length)));
    }
}
