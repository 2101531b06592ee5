namespace MlxManager.Core.Engines;

/// <summary>
/// Engine settings, bound from the <c>MlxManager</c> configuration section:
/// <c>MlxManager:Engines:&lt;key&gt;:Path</c>, e.g. <c>MlxManager:Engines:mlx_lm.server:Path</c>.
/// </summary>
public sealed class EngineOptions
{
    /// <summary>The configuration section to bind: <c>services.Configure&lt;EngineOptions&gt;(configuration.GetSection(EngineOptions.SectionName))</c>.</summary>
    public const string SectionName = "MlxManager";

    /// <summary>Per engine key (case-insensitive).</summary>
    public Dictionary<string, EngineSettings> Engines { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The configuration key under which a user sets an engine's executable path.</summary>
    public static string PathKey(string engineKey) => $"{SectionName}:Engines:{engineKey}:Path";
}

/// <summary>Settings of one engine.</summary>
public sealed class EngineSettings
{
    /// <summary>Full path of the engine's executable; when empty it is looked up on PATH. <c>~/</c> means the home folder.</summary>
    public string? Path { get; set; }
}
