using System.Security.Cryptography;
using System.Text;
using MlxManager.Core.Library;
using MlxManager.Core.Tests.Discovery;

namespace MlxManager.Core.Tests.Library;

/// <summary>
/// Builds the standard HF cache layout on disk the way huggingface_hub writes it: content-addressed blobs,
/// snapshot files as relative symlinks into ../../blobs (one more ../ per subfolder) or as copies, refs/main
/// without a trailing newline, .locks/models--… and *.incomplete partial blobs.
/// </summary>
internal sealed class HfCacheBuilder(string cacheRoot)
{
    public const string Commit1 = "1111111111111111111111111111111111111111";
    public const string Commit2 = "2222222222222222222222222222222222222222";

    public string Root { get; } = cacheRoot;

    public RepoBuilder Repo(string repoId) => new(Path.Combine(Root, HfCacheNames.ModelFolderName(repoId)), Root, repoId);

    /// <summary>A small but complete model: config, tokenizer config, index and two real safetensors shards.</summary>
    public static IReadOnlyList<(string Path, byte[] Content)> ModelFiles(int variant = 0)
    {
        var shard1 = SafetensorsTestFile.Build([new SafetensorsTestFile.Tensor("model.embed_tokens.weight", "BF16", 64 + variant, 32)]);
        var shard2 = SafetensorsTestFile.Build([new SafetensorsTestFile.Tensor("model.norm.weight", "BF16", 32)]);
        return
        [
            ("config.json", Encoding.UTF8.GetBytes($$"""{"model_type": "llama", "max_position_embeddings": {{4096 + variant}}}""")),
            ("tokenizer_config.json", Encoding.UTF8.GetBytes("""{"chat_template": "{{ messages[0].content }}"}""")),
            ("model.safetensors.index.json", Encoding.UTF8.GetBytes("""
                {"metadata": {"total_size": 1}, "weight_map": {
                  "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                  "model.norm.weight": "model-00002-of-00002.safetensors"}}
                """)),
            ("model-00001-of-00002.safetensors", shard1),
            ("model-00002-of-00002.safetensors", shard2),
        ];
    }

    internal sealed class RepoBuilder(string folder, string cacheRoot, string repoId)
    {
        public string Folder { get; } = folder;

        public string RepoId { get; } = repoId;

        public static string Etag(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

        public string AddBlob(byte[] content)
        {
            var etag = Etag(content);
            var path = Path.Combine(Folder, "blobs", etag);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, content);
            return etag;
        }

        /// <summary>snapshots/&lt;commit&gt;/&lt;path&gt; → ../../blobs/&lt;etag&gt;, a relative symlink.</summary>
        public RepoBuilder Link(string commit, string path, byte[] content)
        {
            var etag = AddBlob(content);
            var link = Path.Combine(Folder, "snapshots", commit, path);
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            var depth = path.Count(c => c == '/');
            var target = string.Concat(Enumerable.Repeat("../", 2 + depth)) + "blobs/" + etag;
            File.CreateSymbolicLink(link, target);
            return this;
        }

        /// <summary>A copied (non-symlink) snapshot file, as huggingface_hub writes where symlinks are impossible.</summary>
        public RepoBuilder Copy(string commit, string path, byte[] content)
        {
            var file = Path.Combine(Folder, "snapshots", commit, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllBytes(file, content);
            return this;
        }

        public RepoBuilder LinkModel(string commit, int variant = 0, Func<string, bool>? only = null)
        {
            foreach (var (path, content) in ModelFiles(variant).Where(f => only?.Invoke(f.Path) ?? true))
            {
                Link(commit, path, content);
            }

            return this;
        }

        public RepoBuilder CopyModel(string commit)
        {
            foreach (var (path, content) in ModelFiles())
            {
                Copy(commit, path, content);
            }

            return this;
        }

        public RepoBuilder Main(string commit)
        {
            var refs = Path.Combine(Folder, "refs");
            Directory.CreateDirectory(refs);
            File.WriteAllText(Path.Combine(refs, "main"), commit);
            return this;
        }

        public RepoBuilder Partial(byte[] content, int written)
        {
            var path = Path.Combine(Folder, "blobs", Etag(content) + ".incomplete");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, content[..written]);
            return this;
        }

        public RepoBuilder Lock()
        {
            var locks = Path.Combine(cacheRoot, ".locks", Path.GetFileName(Folder));
            Directory.CreateDirectory(locks);
            File.WriteAllText(Path.Combine(locks, "abc.lock"), string.Empty);
            return this;
        }
    }
}
