using System.Security.Cryptography;
using MlxManager.Core.Downloads;

namespace MlxManager.Core.Tests.Downloads;

public sealed class PipelinedBlobWriterTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlxm-pipelined-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Chunks_AfterAVerifiedPrefix_LandInOrderAndHashToTheWholeFile()
    {
        var content = RandomNumberGenerator.GetBytes(300_000);
        var etag = Convert.ToHexStringLower(SHA256.HashData(content));
        var path = Path.Combine(_folder, etag + ".incomplete");
        const int prefix = 10_000;
        await File.WriteAllBytesAsync(path, content[..prefix]);
        var hash = ContentHash.For(new PlannedFile("model.safetensors", content.Length, etag, IsLfs: true));
        using (hash)
        {
            using var handle = PartialBlobFile.Open(path);
            await PartialBlobFile.HashPrefixAsync(handle, prefix, hash, 4096, CancellationToken.None);
            var committed = new List<int>();
            await using (var writer = new PipelinedBlobWriter(handle, path, hash, prefix, chunkBytes: 64 * 1024))
            {
                var offset = prefix;
                while (offset < content.Length)
                {
                    // Chunks shorter than the buffer, as a broken or slow read leaves them.
                    var count = Math.Min(50_000, content.Length - offset);
                    content.AsSpan(offset, count).CopyTo(writer.Buffer.Span);
                    committed.Add(await writer.SubmitAsync(count));
                    offset += count;
                }

                committed.Add(await writer.FlushAsync());
            }

            committed[0].ShouldBe(0); // nothing was in flight before the first chunk
            committed.Sum().ShouldBe(content.Length - prefix);
            hash.Finish().ShouldBe(etag);
        }

        (await File.ReadAllBytesAsync(path)).ShouldBe(content);
    }
}
