using System.Security.Cryptography;
using MlxManager.Core.Downloads;

namespace MlxManager.Core.Tests.Downloads;

public sealed class HashingBlobWriterTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlxm-hashing-writer-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Pieces_AfterAVerifiedPrefix_LandInOrderAndHashToTheWholeFile()
    {
        var content = RandomNumberGenerator.GetBytes(300_000);
        var etag = Convert.ToHexStringLower(SHA256.HashData(content));
        var path = Path.Combine(_folder, etag + ".incomplete");
        const int prefix = 10_000;
        await File.WriteAllBytesAsync(path, content[..prefix]);
        var hash = ContentHash.For(new PlannedFile("model.safetensors", content.Length, etag, IsLfs: true));
        using (hash)
        {
            using var handle = PartialBlobFile.Open(path, content.Length);
            await PartialBlobFile.HashPrefixAsync(handle, prefix, hash, 4096, CancellationToken.None);
            var writer = new HashingBlobWriter(handle, path, hash, prefix);
            var offset = prefix;
            var sizes = new[] { 1, 50_000, 4096, 65_536, 7 };
            for (var i = 0; offset < content.Length; i++)
            {
                // Pieces of any length, as reads return them.
                var count = Math.Min(sizes[i % sizes.Length], content.Length - offset);
                writer.Append(content.AsSpan(offset, count));
                offset += count;
            }

            hash.Finish().ShouldBe(etag);
        }

        (await File.ReadAllBytesAsync(path)).ShouldBe(content);
    }
}
