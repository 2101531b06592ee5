using MlxManager.Core.Chat.History;
using MlxManager.Core.Data;

namespace MlxManager.Core.Tests.Chat.History;

public sealed class AttachmentStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("attachments-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Save_WritesUnderTheConversationFolder_WithAGeneratedName()
    {
        var store = new AttachmentStore(new DataDirectory(_root));

        var name = await store.SaveAsync(7, "hello"u8.ToArray(), ".TXT", default);

        name.ShouldMatch("^[0-9a-f]{32}\\.txt$");
        File.ReadAllText(Path.Combine(_root, "chat", "7", name)).ShouldBe("hello");
        (await store.ReadAsync(7, name, default)).ShouldBe("hello"u8.ToArray());
    }

    [Theory]
    [InlineData("../../app.db")]
    [InlineData("/etc/passwd")]
    [InlineData("abc.txt")]
    public void PathOf_RefusesNamesItDidNotGenerate(string name) =>
        Should.Throw<ArgumentException>(() => new AttachmentStore(new DataDirectory(_root)).PathOf(1, name));

    [Fact]
    public async Task Save_OddExtension_BecomesBin()
    {
        var name = await new AttachmentStore(new DataDirectory(_root)).SaveAsync(1, new byte[] { 1 }, "../x y", default);

        name.ShouldEndWith(".bin");
    }

    [Theory]
    [InlineData("a.png", null, AttachmentKind.Image)]
    [InlineData("clip", "video/mp4", AttachmentKind.Video)]
    [InlineData("clip.MOV", "application/octet-stream", AttachmentKind.Video)]
    [InlineData("photo", "image/jpeg", AttachmentKind.Image)]
    [InlineData("notes.md", "text/markdown", AttachmentKind.TextFile)]
    public void Classify_UsesTypeAndName(string name, string? type, AttachmentKind expected) =>
        AttachmentIntake.Classify(name, type).ShouldBe(expected);
}
