using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MlxManager.Core.Chat.History;
using MlxManager.Core.Chat.Media;

namespace MlxManager.Core.Chat;

/// <summary>Registers the engine-facing chat services of MlxManager.Core.</summary>
public static class ChatServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ChatStreamReader"/>, <see cref="ChatMarkdown"/>, <see cref="TimeProvider"/>,
    /// <see cref="ToolLoopOptions"/> and <see cref="ChatOptions"/> bound to <c>MlxManager:Chat</c>, the history
    /// (<see cref="ConversationStore"/> scoped, <see cref="AttachmentStore"/>, <see cref="AttachmentIntake"/>), media
    /// (<see cref="ImageDownscaler"/>, <see cref="FfmpegLocator"/>, <see cref="VideoFrameExtractor"/>) and
    /// <see cref="ChatTurnRunner"/>. The host adds <see cref="Engines.EngineRegistry"/> (AddEngines), an
    /// <see cref="Servers.IChatServerDirectory"/>, an <see cref="IChatToolSource"/> and the HTTP client:
    /// <c>services.AddHttpClient&lt;EngineChatClient&gt;(c =&gt; c.Timeout = Timeout.InfiniteTimeSpan)</c>.
    /// </summary>
    public static IServiceCollection AddChatCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ChatStreamReader>();
        services.TryAddSingleton<ChatMarkdown>();
        services.AddOptions<ToolLoopOptions>()
            .Bind(configuration.GetSection("MlxManager:Chat"))
            .Validate(o => o.MaxToolRounds is >= 0 and <= 50, "MlxManager:Chat:MaxToolRounds must be between 0 and 50.")
            .ValidateOnStart();
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<ToolLoopOptions>>().Value);
        services.AddOptions<ChatOptions>()
            .Bind(configuration.GetSection(ChatOptions.Section))
            .Validate(o => o.MaxAttachments is >= 1 and <= 64, "MlxManager:Chat:MaxAttachments must be between 1 and 64.")
            .Validate(o => o.ImageMaxDimension >= 64, "MlxManager:Chat:ImageMaxDimension must be at least 64.")
            .Validate(o => o.MaxImagePixels >= 1_000_000, "MlxManager:Chat:MaxImagePixels must be at least 1000000.")
            .Validate(o => o.MaxConcurrentImageDecodes >= 1, "MlxManager:Chat:MaxConcurrentImageDecodes must be at least 1.")
            .Validate(o => o.MaxStoragePerUser >= 1024 * 1024, "MlxManager:Chat:MaxStoragePerUser must be at least 1 MB.")
            .Validate(o => o.VideoFramesPerSecond is > 0 and <= 30, "MlxManager:Chat:VideoFramesPerSecond must be above 0 and at most 30.")
            .Validate(o => o.VideoMaxFrames is >= 1 and <= 256, "MlxManager:Chat:VideoMaxFrames must be between 1 and 256.")
            .Validate(o => o.VideoFrameMaxDimension >= 64, "MlxManager:Chat:VideoFrameMaxDimension must be at least 64.")
            .ValidateOnStart();
        services.TryAddSingleton<ImageDownscaler>();
        services.TryAddSingleton<FfmpegLocator>();
        services.TryAddSingleton<VideoFrameExtractor>();
        services.TryAddSingleton<AttachmentStore>();
        services.TryAddSingleton<AttachmentIntake>();
        services.TryAddScoped<ConversationStore>();
        services.TryAddSingleton<ChatTurnRunner>();
        return services;
    }
}
