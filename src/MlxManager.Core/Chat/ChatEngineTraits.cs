using MlxManager.Core.Engines;

namespace MlxManager.Core.Chat;

/// <summary>What the chat must know about each engine's request format (see docs/reference/engines.md).</summary>
public static class ChatEngineTraits
{
    /// <summary>True when <paramref name="engine"/> takes <c>image_url</c> parts (mlx_lm.server answers 404 to them).</summary>
    public static bool AcceptsImages(IEngineDefinition? engine) => engine?.AcceptsImages == true;

    /// <summary>True when <paramref name="engineKey"/> takes <c>video_url</c> parts: mlx_vlm.server and mlx-openai-server (multimodal).</summary>
    public static bool AcceptsVideo(string engineKey) =>
        engineKey is MlxVlmServer.EngineKey or MlxOpenAiServer.EngineKey;

    /// <summary>How a video goes to <paramref name="engineKey"/> under <paramref name="setting"/>.</summary>
    public static VideoDelivery DeliveryFor(string engineKey, ChatVideoDelivery setting) => setting switch
    {
        ChatVideoDelivery.VideoUrl => VideoDelivery.VideoUrl,
        ChatVideoDelivery.Frames => VideoDelivery.Frames,
        _ => AcceptsVideo(engineKey) ? VideoDelivery.VideoUrl : VideoDelivery.Frames,
    };

    /// <summary>
    /// mlx_vlm.server reads the thinking switch as a top-level <c>enable_thinking</c> field; the others read
    /// <c>chat_template_kwargs.enable_thinking</c>.
    /// </summary>
    public static bool TakesTopLevelThinkingSwitch(string engineKey) => engineKey == MlxVlmServer.EngineKey;
}
