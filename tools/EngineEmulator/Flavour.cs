namespace MlxManager.EngineEmulator;

/// <summary>Which real engine the emulator stands in for.</summary>
public enum Flavour
{
    /// <summary><c>mlx_lm.server</c> (package mlx-lm): text only, argparse CLI, BaseHTTPServer.</summary>
    MlxLm,
    /// <summary><c>mlx_vlm.server</c> (package mlx-vlm): vision, argparse CLI, FastAPI/uvicorn.</summary>
    MlxVlm,
    /// <summary><c>mlx-openai-server launch</c>: click CLI, FastAPI/uvicorn, model in a handler subprocess.</summary>
    OpenAiServer,
}

/// <summary>The executable names of the flavours, as the real packages install them.</summary>
public static class FlavourNames
{
    public const string MlxLm = "mlx_lm.server";
    public const string MlxVlm = "mlx_vlm.server";
    public const string OpenAiServer = "mlx-openai-server";

    public static IReadOnlyList<Flavour> All { get; } = [Flavour.MlxLm, Flavour.MlxVlm, Flavour.OpenAiServer];

    public static string ExecutableName(this Flavour flavour) => flavour switch
    {
        Flavour.MlxLm => MlxLm,
        Flavour.MlxVlm => MlxVlm,
        Flavour.OpenAiServer => OpenAiServer,
        _ => throw new ArgumentOutOfRangeException(nameof(flavour)),
    };

    /// <summary>Accepts an executable name (with or without a path) or a short alias (<c>mlx_lm</c>, <c>vlm</c>, <c>openai</c>).</summary>
    public static Flavour? Parse(string name)
    {
        var key = Path.GetFileName(name).ToLowerInvariant();
        return key switch
        {
            MlxLm or "mlx_lm" or "mlx-lm" or "lm" => Flavour.MlxLm,
            MlxVlm or "mlx_vlm" or "mlx-vlm" or "vlm" => Flavour.MlxVlm,
            OpenAiServer or "openai" or "mlx_openai_server" or "openai-server" => Flavour.OpenAiServer,
            _ => null,
        };
    }
}
