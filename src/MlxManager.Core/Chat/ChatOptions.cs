namespace MlxManager.Core.Chat;

/// <summary>How videos reach engines, overriding what the chat knows about each engine.</summary>
public enum ChatVideoDelivery
{
    /// <summary><c>video_url</c> to engines that accept it (mlx_vlm.server, mlx-openai-server), frames to the others.</summary>
    Auto,

    /// <summary>Always <c>video_url</c>.</summary>
    VideoUrl,

    /// <summary>Always frames extracted with ffmpeg, sent as images.</summary>
    Frames,
}

/// <summary>Settings of the web chat (configuration section <c>MlxManager:Chat</c>).</summary>
public sealed class ChatOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "MlxManager:Chat";

    /// <summary>ffmpeg to extract video frames with; when unset, <c>ffmpeg</c> is looked up on PATH.</summary>
    public string? FfmpegPath { get; set; }

    /// <summary>Attachments per message.</summary>
    public int MaxAttachments { get; set; } = 8;

    /// <summary>Largest image accepted (before scaling).</summary>
    public long MaxImageBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Largest video accepted.</summary>
    public long MaxVideoBytes { get; set; } = 100 * 1024 * 1024;

    /// <summary>Largest text file accepted (it is inlined into the prompt).</summary>
    public long MaxTextFileBytes { get; set; } = 512 * 1024;

    /// <summary>Images wider or taller than this are scaled down before they are sent.</summary>
    public int ImageMaxDimension { get; set; } = 2048;

    /// <summary>
    /// Images with more pixels than this are refused before they are decoded (a small PNG can describe a bitmap of
    /// gigabytes). Default 50 megapixels: any phone or camera photo.
    /// </summary>
    public long MaxImagePixels { get; set; } = 50_000_000;

    /// <summary>Images decoded at the same time, at most (each may take up to 4 bytes per pixel).</summary>
    public int MaxConcurrentImageDecodes { get; set; } = Environment.ProcessorCount;

    /// <summary>Images larger than this are re-encoded (and scaled if needed) before they are sent.</summary>
    public long ImageMaxSendBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Attachment files one account may keep, all conversations together (what is stored: scaled images, videos,
    /// text files). A message that would go above it is refused; deleting conversations makes room.
    /// </summary>
    public long MaxStoragePerUser { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// The largest request the send handler reads: every attachment at the largest size allowed for any kind, plus
    /// 1 MB for the text and the form's framing. Kestrel's own default (30 MB) would cut a video the settings allow.
    /// </summary>
    public long MaxMessageBytes => MaxAttachments * Math.Max(Math.Max(MaxVideoBytes, MaxImageBytes), MaxTextFileBytes) + (1024 * 1024);

    /// <summary>Frames per second taken from a video when it goes as frames.</summary>
    public double VideoFramesPerSecond { get; set; } = 1.0;

    /// <summary>At most this many frames per video.</summary>
    public int VideoMaxFrames { get; set; } = 16;

    /// <summary>Frames are scaled to fit this size.</summary>
    public int VideoFrameMaxDimension { get; set; } = 768;

    /// <summary>How videos are sent (<see cref="ChatVideoDelivery.Auto"/> by engine).</summary>
    public ChatVideoDelivery VideoDelivery { get; set; } = ChatVideoDelivery.Auto;

    /// <summary>How long to wait for ffmpeg.</summary>
    public TimeSpan FfmpegTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long one MCP tool call (or listing) may take.</summary>
    public TimeSpan ToolTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
