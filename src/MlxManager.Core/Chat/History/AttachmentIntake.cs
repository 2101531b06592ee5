using System.Text;
using Microsoft.Extensions.Options;
using MlxManager.Core.Chat.Media;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Engines;

namespace MlxManager.Core.Chat.History;

/// <summary>A file the user attached, as uploaded.</summary>
public sealed record IncomingAttachment(string FileName, string? ContentType, long Length, Func<CancellationToken, Task<byte[]>> ReadAsync);

/// <summary>
/// Checks attachments against the limits and the server's real abilities, prepares them (images scaled down,
/// text decoded) and stores them. Images and videos are accepted only when the model's detected capability says
/// vision and the engine takes images: the profile's label does not count.
/// </summary>
public sealed class AttachmentIntake(AttachmentStore files, ImageDownscaler images, FfmpegLocator ffmpeg, EngineRegistry engines, IOptions<ChatOptions> options)
{
    private static readonly HashSet<string> VideoExtensions = new(StringComparer.OrdinalIgnoreCase) { ".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi" };
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp" };

    /// <summary>Why <paramref name="server"/> cannot take images, or null when it can.</summary>
    public string? MediaRefusal(ChatServer server)
    {
        if (!server.Model.Vision)
        {
            return $"{server.ModelReference} cannot see images or video: its files show no vision tower.";
        }

        return ChatEngineTraits.AcceptsImages(engines.TryGet(server.Profile.Engine, out var engine) ? engine : null)
            ? null
            : $"{server.Profile.Engine} does not take images; serve this model with mlx_vlm.server or mlx-openai-server.";
    }

    /// <summary>
    /// Checks and stores <paramref name="incoming"/> for a message to <paramref name="server"/>;
    /// <paramref name="storedByUser"/> is what the user's conversations already hold (<see cref="ChatOptions.MaxStoragePerUser"/>).
    /// </summary>
    /// <exception cref="AttachmentRejectedException">One attachment breaks a rule, or they do not fit in the user's
    /// storage; nothing is stored.</exception>
    public async Task<IReadOnlyList<StoredAttachment>> AcceptAsync(int conversationId, ChatServer server, IReadOnlyList<IncomingAttachment> incoming, long storedByUser, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (incoming.Count > settings.MaxAttachments)
        {
            throw new AttachmentRejectedException($"At most {settings.MaxAttachments} attachments per message ({incoming.Count} were added).");
        }

        var prepared = new List<(AttachmentKind Kind, string Name, string Type, byte[] Data, string Ext, int? W, int? H)>();
        foreach (var file in incoming)
        {
            var name = DisplayName(file.FileName);
            var kind = Classify(name, file.ContentType);
            switch (kind)
            {
                case AttachmentKind.Image:
                {
                    RefuseMedia(server, name);
                    Limit(name, file.Length, settings.MaxImageBytes, "image");
                    var data = await file.ReadAsync(cancellationToken).ConfigureAwait(false);
                    var image = await images.PrepareAsync(data, name, settings.ImageMaxDimension, settings.ImageMaxSendBytes, cancellationToken).ConfigureAwait(false);
                    prepared.Add((kind, name, image.MediaType, image.Data, image.MediaType["image/".Length..].Replace("jpeg", "jpg", StringComparison.Ordinal), image.Width, image.Height));
                    break;
                }

                case AttachmentKind.Video:
                {
                    RefuseMedia(server, name);
                    Limit(name, file.Length, settings.MaxVideoBytes, "video");
                    if (ChatEngineTraits.DeliveryFor(server.Profile.Engine, settings.VideoDelivery) == VideoDelivery.Frames
                        && ffmpeg.Locate() is { Path: null, Problem: { } missing })
                    {
                        throw new AttachmentRejectedException(missing);
                    }

                    var data = await file.ReadAsync(cancellationToken).ConfigureAwait(false);
                    var ext = Path.GetExtension(name).ToLowerInvariant();
                    prepared.Add((kind, name, VideoMediaType(ext, file.ContentType), data, VideoExtensions.Contains(ext) ? ext : ".mp4", null, null));
                    break;
                }

                default:
                {
                    Limit(name, file.Length, settings.MaxTextFileBytes, "text file");
                    var data = await file.ReadAsync(cancellationToken).ConfigureAwait(false);
                    if (!IsText(data))
                    {
                        throw new AttachmentRejectedException($"{name} is neither an image, a video nor a UTF-8 text file.");
                    }

                    prepared.Add((AttachmentKind.TextFile, name, "text/plain", data, ".txt", null, null));
                    break;
                }
            }
        }

        var adding = prepared.Sum(p => (long)p.Data.Length);
        if (storedByUser + adding > settings.MaxStoragePerUser)
        {
            throw new AttachmentRejectedException(
                $"These attachments ({DescribeSize(adding)}) do not fit: your conversations already keep {DescribeSize(storedByUser)} of files "
                + $"and each account may keep {DescribeSize(settings.MaxStoragePerUser)}. Delete conversations you no longer need to make room.");
        }

        var stored = new List<StoredAttachment>(prepared.Count);
        foreach (var p in prepared)
        {
            var storedName = await files.SaveAsync(conversationId, p.Data, p.Ext, cancellationToken).ConfigureAwait(false);
            stored.Add(new StoredAttachment(p.Kind, p.Name, p.Type, storedName, p.Data.Length, p.W, p.H));
        }

        return stored;
    }

    /// <summary>Image, video or text, from the declared type and the name.</summary>
    public static AttachmentKind Classify(string fileName, string? contentType)
    {
        var ext = Path.GetExtension(fileName);
        if (contentType?.StartsWith("image/", StringComparison.OrdinalIgnoreCase) == true || ImageExtensions.Contains(ext))
        {
            return AttachmentKind.Image;
        }

        return contentType?.StartsWith("video/", StringComparison.OrdinalIgnoreCase) == true || VideoExtensions.Contains(ext)
            ? AttachmentKind.Video
            : AttachmentKind.TextFile;
    }

    private void RefuseMedia(ChatServer server, string name)
    {
        if (MediaRefusal(server) is { } refusal)
        {
            throw new AttachmentRejectedException($"{name} was not attached: {refusal}");
        }
    }

    private static void Limit(string name, long length, long max, string what)
    {
        if (length > max)
        {
            throw new AttachmentRejectedException($"{name} is {DescribeSize(length)}; a {what} may be at most {DescribeSize(max)}.");
        }

        if (length == 0)
        {
            throw new AttachmentRejectedException($"{name} is empty.");
        }
    }

    /// <summary>A size as the chat's messages say it: "36 MB", "600 KB".</summary>
    public static string DescribeSize(long bytes) => bytes >= 1024L * 1024 * 1024
        ? $"{bytes / (1024.0 * 1024 * 1024):0.#} GB"
        : bytes >= 1024 * 1024
        ? $"{bytes / (1024.0 * 1024):0.#} MB"
        : $"{Math.Max(1, bytes / 1024)} KB";

    private static string VideoMediaType(string ext, string? declared) => ext switch
    {
        ".mp4" or ".m4v" => "video/mp4",
        ".mov" => "video/quicktime",
        ".webm" => "video/webm",
        ".mkv" => "video/x-matroska",
        ".avi" => "video/x-msvideo",
        _ => declared?.StartsWith("video/", StringComparison.OrdinalIgnoreCase) == true ? declared : "video/mp4",
    };

    private static bool IsText(byte[] data)
    {
        if (Array.IndexOf(data, (byte)0) >= 0)
        {
            return false;
        }

        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(data);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false; // binary: refused with a message by the caller
        }
    }

    // The user's file name is only ever displayed: keep its last segment, printable, and not too long.
    private static string DisplayName(string fileName)
    {
        var name = Path.GetFileName(fileName.Replace('\\', '/'));
        name = new string(name.Where(c => !char.IsControl(c)).ToArray()).Trim();
        if (name.Length == 0)
        {
            name = "attachment";
        }

        return name.Length > 120 ? name[..120] : name;
    }
}
