namespace MlxManager.Core.Engines;

/// <summary>
/// How to tell that an engine has loaded its model. The only proof that works for every engine is a real
/// request: POST <see cref="CompletionBody"/> to <see cref="CompletionPath"/> and get a 2xx answer back.
/// The health endpoint is an extra signal whose meaning differs per engine (<see cref="IEngineDefinition.InterpretHealth"/>).
/// </summary>
/// <param name="HealthPath">Path of the engine's health endpoint, relative to its base URL.</param>
/// <param name="HealthMeaning">What a health answer proves for this engine, in a sentence for logs and docs.</param>
/// <param name="CompletionPath">Path of the chat completions endpoint.</param>
/// <param name="CompletionBody">A one-token, non-streaming chat completion request (JSON). Send it with a
/// Content-Length (mlx_lm.server answers 411 to chunked bodies).</param>
public sealed record ReadinessProbe(string HealthPath, string HealthMeaning, string CompletionPath, string CompletionBody);

/// <summary>What one health answer says about the model being loaded.</summary>
public enum HealthVerdict
{
    /// <summary>The answer proves nothing either way (e.g. mlx_lm.server answers before loading).</summary>
    Unknown,

    /// <summary>The engine says it is still loading.</summary>
    Loading,

    /// <summary>The engine says the model is loaded (still confirm with the completion probe).</summary>
    Loaded,
}
