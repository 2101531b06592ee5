using System.Text.RegularExpressions;
using MlxManager.Core.Data;

namespace MlxManager.Core.Chat.History;

/// <summary>
/// The files of chat attachments: <c>&lt;data&gt;/chat/&lt;conversation id&gt;/&lt;random&gt;.&lt;ext&gt;</c>. Names are
/// generated here, never taken from the user, and every name read back is checked against that shape, so no
/// request can reach a path outside the folder.
/// </summary>
public sealed partial class AttachmentStore(DataDirectory dataDirectory)
{
    /// <summary>Writes <paramref name="data"/> and returns the generated stored name.</summary>
    public async Task<string> SaveAsync(int conversationId, ReadOnlyMemory<byte> data, string extension, CancellationToken cancellationToken)
    {
        var ext = SafeExtension(extension);
        var name = Guid.NewGuid().ToString("N") + "." + ext;
        var folder = Directory.CreateDirectory(ConversationFolder(conversationId)).FullName;
        var path = Path.Combine(folder, name);
        await File.WriteAllBytesAsync(path, data.ToArray(), cancellationToken).ConfigureAwait(false);
        return name;
    }

    /// <summary>The full path of a stored file.</summary>
    /// <exception cref="ArgumentException">The name is not one this store generated.</exception>
    public string PathOf(int conversationId, string storedName)
    {
        if (!StoredNamePattern().IsMatch(storedName))
        {
            throw new ArgumentException("Not a stored attachment name.", nameof(storedName));
        }

        return Path.Combine(ConversationFolder(conversationId), storedName);
    }

    /// <summary>The folder holding the frames extracted from a stored video.</summary>
    public string FramesFolderOf(int conversationId, string storedName) =>
        Path.ChangeExtension(PathOf(conversationId, storedName), null) + ".frames";

    /// <summary>Reads a stored file.</summary>
    public Task<byte[]> ReadAsync(int conversationId, string storedName, CancellationToken cancellationToken) =>
        File.ReadAllBytesAsync(PathOf(conversationId, storedName), cancellationToken);

    /// <summary>Deletes every file of a conversation.</summary>
    public void DeleteConversation(int conversationId)
    {
        var folder = ConversationFolder(conversationId);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private string ConversationFolder(int conversationId) =>
        dataDirectory.PathFor("chat", conversationId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static string SafeExtension(string extension)
    {
        var ext = extension.TrimStart('.').ToLowerInvariant();
        return ext.Length is > 0 and <= 5 && ext.All(char.IsAsciiLetterOrDigit) ? ext : "bin";
    }

    [GeneratedRegex("^[0-9a-f]{32}\\.[a-z0-9]{1,5}$")]
    private static partial Regex StoredNamePattern();
}
