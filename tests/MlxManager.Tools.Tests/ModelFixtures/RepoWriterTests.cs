using System.Text.Json;
using MlxManager.ModelFixtures;

namespace MlxManager.Tools.Tests.ModelFixtures;

public sealed class RepoWriterTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("fixtures-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Write_ShardedModel_HeadersIndexAndSizesAgree()
    {
        var spec = FixtureCatalog.Sized(FixtureCatalog.QwenThinking, 12 * 1024 * 1024, shards: 3);

        var repo = RepoWriter.Write(Path.Combine(root, "repo"), spec);

        var shards = repo.Files.Where(f => f.Path.EndsWith(".safetensors")).ToList();
        shards.Select(f => f.Path).ShouldBe(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"]);
        shards.ShouldAllBe(f => f.IsLfs && f.Etag.Length == 64);
        repo.WeightBytes.ShouldBeInRange(12L * 1024 * 1024 * 95 / 100, 12L * 1024 * 1024 * 105 / 100);

        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(repo.Folder, "model.safetensors.index.json")));
        var weightMap = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        long total = 0;
        foreach (var shard in shards)
        {
            var file = Path.Combine(repo.Folder, shard.Path);
            using var header = SafetensorsWriter.ReadHeader(file);
            long expectedOffset = 0;
            foreach (var tensor in header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__"))
            {
                weightMap[tensor.Name].ShouldBe(shard.Path);
                var offsets = tensor.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                offsets[0].ShouldBe(expectedOffset);
                long elements = tensor.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (a, e) => a * e.GetInt64());
                (offsets[1] - offsets[0]).ShouldBe(elements * TensorEntry.ElementSize(tensor.Value.GetProperty("dtype").GetString()!));
                expectedOffset = offsets[1];
            }
            var headerLength = BitConverter.ToInt64(File.ReadAllBytes(file).AsSpan(0, 8));
            (headerLength % 8).ShouldBe(0);
            new FileInfo(file).Length.ShouldBe(8 + headerLength + expectedOffset);
            total += expectedOffset;
        }
        index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64().ShouldBe(total);
    }

    [Fact]
    public void Write_SameSpecTwice_GivesTheSameCommit()
    {
        var first = RepoWriter.Write(Path.Combine(root, "a"), FixtureCatalog.LlamaTools);
        var second = RepoWriter.Write(Path.Combine(root, "b"), FixtureCatalog.LlamaTools);

        second.Commit.ShouldBe(first.Commit);
        second.Commit.Length.ShouldBe(40);
    }

    [Fact]
    public void Write_VisionModel_NestsTextConfigAndAddsPreprocessor()
    {
        var repo = RepoWriter.Write(Path.Combine(root, "gemma"), FixtureCatalog.GemmaVision);

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(repo.Folder, "config.json")));
        config.RootElement.GetProperty("text_config").GetProperty("max_position_embeddings").GetInt32().ShouldBe(131072);
        config.RootElement.GetProperty("text_config").GetProperty("sliding_window").GetInt32().ShouldBe(1024);
        config.RootElement.TryGetProperty("vision_config", out _).ShouldBeTrue();
        config.RootElement.GetProperty("quantization").GetProperty("bits").GetInt32().ShouldBe(4);
        File.Exists(Path.Combine(repo.Folder, "preprocessor_config.json")).ShouldBeTrue();
        File.ReadAllText(Path.Combine(repo.Folder, "chat_template.json")).ShouldContain("start_of_image");
    }

    [Fact]
    public void Write_TemplatePlacements_PutTheTemplateWhereAsked()
    {
        var jinja = RepoWriter.Write(Path.Combine(root, "jinja"), FixtureCatalog.QwenVision);
        var list = RepoWriter.Write(Path.Combine(root, "list"), FixtureCatalog.LlamaTools with { TemplatePlacement = TemplatePlacement.TokenizerConfigList });

        File.ReadAllText(Path.Combine(jinja.Folder, "chat_template.jinja")).ShouldContain("for tool in tools");
        using var tokenizer = JsonDocument.Parse(File.ReadAllText(Path.Combine(list.Folder, "tokenizer_config.json")));
        var templates = tokenizer.RootElement.GetProperty("chat_template").EnumerateArray().ToList();
        templates.Select(t => t.GetProperty("name").GetString()).ShouldBe(["default", "tool_use"]);
    }

    [Fact]
    public void HfCacheWriter_WritesBlobsRelativeLinksAndRefsMain()
    {
        var repo = HfCacheWriter.Write(root, FixtureCatalog.Sized(FixtureCatalog.Phi8Bit, 3 * 1024 * 1024, 2));

        var folder = Path.Combine(root, "models--mlx-community--Phi-3.5-mini-instruct-8bit");
        File.ReadAllText(Path.Combine(folder, "refs", "main")).ShouldBe(repo.Commit);
        foreach (var file in repo.Files)
        {
            var link = new FileInfo(Path.Combine(folder, "snapshots", repo.Commit, file.Path));
            link.LinkTarget.ShouldBe($"../../blobs/{file.Etag}");
            new FileInfo(Path.Combine(folder, "blobs", file.Etag)).Length.ShouldBe(file.Size);
        }
        GitObjects.Sha256(Path.Combine(folder, "blobs", repo.Files.First(f => f.IsLfs).Etag)).ShouldBe(repo.Files.First(f => f.IsLfs).Etag);
    }

    [Fact]
    public void HfCacheWriter_Incomplete_LeavesHalfABlobAndNoRef()
    {
        var repo = HfCacheWriter.Write(root, FixtureCatalog.LlamaTools, new CacheLayoutOptions { Incomplete = true });

        var weight = repo.Files.Single(f => f.Path == "model.safetensors");
        new FileInfo(Path.Combine(repo.Folder, "blobs", weight.Etag + ".incomplete")).Length.ShouldBe(weight.Size / 2);
        File.Exists(Path.Combine(repo.Folder, "refs", "main")).ShouldBeFalse();
        File.Exists(Path.Combine(repo.Folder, "snapshots", repo.Commit, "model.safetensors")).ShouldBeFalse();
    }

    [Fact]
    public void GitBlobSha1_MatchesGit()
    {
        var file = Path.Combine(root, "hello.txt");
        File.WriteAllText(file, "hello\n");

        // `printf 'hello\n' | git hash-object --stdin`
        GitObjects.GitBlobSha1(file).ShouldBe("ce013625030ba8dba906f756967f9e9ca394464a");
    }
}
