namespace MlxManager.ModelFixtures;

/// <summary>How a fixture is placed in an HF cache.</summary>
public sealed record CacheLayoutOptions
{
    /// <summary>Copy blobs into the snapshot instead of linking (what huggingface_hub does where symlinks are impossible).</summary>
    public bool CopySnapshots { get; init; }
    /// <summary>Leave the last weight file half-written as <c>blobs/&lt;etag&gt;.incomplete</c>, unlinked: a download in progress.</summary>
    public bool Incomplete { get; init; }
    /// <summary>Write <c>refs/main</c> (huggingface_hub writes it when the download finishes).</summary>
    public bool WriteRefsMain { get; init; } = true;
}

/// <summary>Writes a fixture straight into the standard HF cache layout, as huggingface_hub would have
/// downloaded it: content-addressed blobs, relative snapshot links, refs/main.</summary>
public static class HfCacheWriter
{
    public static string FolderName(string repoId) => "models--" + repoId.Replace("/", "--", StringComparison.Ordinal);

    public static WrittenRepo Write(string cacheRoot, FixtureSpec spec, CacheLayoutOptions? options = null)
    {
        options ??= new CacheLayoutOptions();
        var staging = Path.Combine(cacheRoot, ".fixture-staging-" + Guid.NewGuid().ToString("N"));
        try
        {
            var written = RepoWriter.Write(staging, spec);
            var repoFolder = Path.Combine(cacheRoot, FolderName(spec.RepoId));
            var blobs = Directory.CreateDirectory(Path.Combine(repoFolder, "blobs")).FullName;
            var snapshot = Directory.CreateDirectory(Path.Combine(repoFolder, "snapshots", written.Commit)).FullName;
            var lastWeight = written.Files.LastOrDefault(f => f.Path.EndsWith(".safetensors", StringComparison.Ordinal));

            foreach (var file in written.Files)
            {
                var source = Path.Combine(staging, file.Path);
                var blob = Path.Combine(blobs, file.Etag);
                if (options.Incomplete && file == lastWeight)
                {
                    using var input = File.OpenRead(source);
                    using var output = File.Create(blob + ".incomplete");
                    CopyBytes(input, output, file.Size / 2);
                    continue;
                }
                if (!File.Exists(blob)) File.Move(source, blob);
                var link = Path.Combine(snapshot, file.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(link)!);
                if (File.Exists(link)) File.Delete(link);
                if (options.CopySnapshots)
                    File.Copy(blob, link);
                else
                    File.CreateSymbolicLink(link, Path.GetRelativePath(Path.GetDirectoryName(link)!, blob));
            }
            if (options.WriteRefsMain && !options.Incomplete)
            {
                Directory.CreateDirectory(Path.Combine(repoFolder, "refs"));
                File.WriteAllText(Path.Combine(repoFolder, "refs", "main"), written.Commit);
            }
            return written with { Folder = repoFolder };
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    static void CopyBytes(Stream input, Stream output, long count)
    {
        var buffer = new byte[81920];
        while (count > 0)
        {
            int n = input.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
            if (n == 0) break;
            output.Write(buffer, 0, n);
            count -= n;
        }
    }
}
