using System.Globalization;

namespace MlxManager.EngineEmulator;

/// <summary>How the emulator starts: listening before the model has loaded, or only after.</summary>
public enum StartMode
{
    /// <summary>Listen at once, load in the background (mlx_lm.server today, and mlx-openai-server's multi-model mode).</summary>
    ListenFirst,
    /// <summary>Load, then listen; a failed load ends the process (mlx_vlm.server and mlx-openai-server load in the FastAPI
    /// lifespan, before uvicorn accepts connections; older mlx_lm.server did too).</summary>
    LoadFirst,
}

/// <summary>How streamed tool calls are cut into chunks.</summary>
public enum ToolCallChunking
{
    /// <summary>Each call complete in one chunk: id, index, type, name and the full arguments string.</summary>
    Whole,
    /// <summary>OpenAI-style fragments: id, type and name first, the arguments in several pieces joined by index.</summary>
    Fragments,
}

/// <summary>A fault requested for the whole run through <c>EMULATOR_FAULT</c>: crash every stream after a few
/// tokens, hang every completion before its first token, or exit after a delay.</summary>
public sealed record FaultPlan(bool CrashMidStream, bool Hang, TimeSpan? ExitAfter)
{
    public static FaultPlan None { get; } = new(false, false, null);

    public static FaultPlan Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return None;
        bool crash = false, hang = false;
        TimeSpan? exitAfter = null;
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part == "crash-mid-stream") crash = true;
            else if (part == "hang") hang = true;
            else if (part.StartsWith("exit-after:", StringComparison.Ordinal)
                     && double.TryParse(part["exit-after:".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
                exitAfter = TimeSpan.FromSeconds(seconds);
            else throw new FormatException($"EMULATOR_FAULT: unknown fault '{part}' (crash-mid-stream, hang, exit-after:N)");
        }
        return new(crash, hang, exitAfter);
    }
}

/// <summary>Emulator-only knobs. They come from environment variables, never from flags, so that the
/// command line stays exactly the real engine's. Every variable is documented in README.md.</summary>
public sealed record EmulatorSettings
{
    /// <summary>Bytes per second at which weights are mapped and touched (<c>EMULATOR_LOAD_RATE</c>, default 500M).</summary>
    public double LoadBytesPerSecond { get; init; } = 500e6;
    /// <summary>Generated tokens per second (<c>EMULATOR_TOKEN_RATE</c>, default 40).</summary>
    public double TokensPerSecond { get; init; } = 40;
    /// <summary>Prompt tokens processed per second (<c>EMULATOR_PREFILL_RATE</c>, default 800).</summary>
    public double PrefillTokensPerSecond { get; init; } = 800;
    /// <summary>Seconds spent importing Python modules before the command line is even read
    /// (<c>EMULATOR_IMPORT_SECONDS</c>, default 0; the real engines take 1–3 s to import mlx).</summary>
    public TimeSpan ImportTime { get; init; } = TimeSpan.Zero;
    /// <summary><c>EMULATOR_START_MODE</c>: <c>listen-first</c> or <c>load-first</c>; unset, each flavour starts as the
    /// real engine does (<see cref="StartModeFor"/>).</summary>
    public StartMode? StartMode { get; init; }
    /// <summary><c>EMULATOR_FAULT</c>.</summary>
    public FaultPlan Fault { get; init; } = FaultPlan.None;
    /// <summary><c>EMULATOR_TOOL_CALL_CHUNKS</c>: overrides the flavour's default chunking of streamed tool calls.</summary>
    public ToolCallChunking? ToolCallChunking { get; init; }
    /// <summary><c>EMULATOR_HANDLER_PROCESS</c>: mlx-openai-server loads its model in a child process (default 1, as the real one).</summary>
    public bool OpenAiHandlerProcess { get; init; } = true;
    /// <summary><c>EMULATOR_PARENT_PID</c>: set by wrapper launchers; the emulator exits when that process is gone.</summary>
    public int? ParentPid { get; init; }

    /// <summary>The start mode of <paramref name="flavour"/>: the one asked for, else the real engine's — only mlx_lm.server
    /// listens before its model has loaded (reference/engines.md).</summary>
    public StartMode StartModeFor(Flavour flavour) =>
        StartMode ?? (flavour == Flavour.MlxLm ? EngineEmulator.StartMode.ListenFirst : EngineEmulator.StartMode.LoadFirst);

    public static EmulatorSettings FromEnvironment() => FromVariables(name => Environment.GetEnvironmentVariable(name));

    public static EmulatorSettings FromVariables(Func<string, string?> get)
    {
        var settings = new EmulatorSettings();
        if (get("EMULATOR_LOAD_RATE") is { Length: > 0 } load) settings = settings with { LoadBytesPerSecond = ParseRate(load, "EMULATOR_LOAD_RATE") };
        if (get("EMULATOR_TOKEN_RATE") is { Length: > 0 } token) settings = settings with { TokensPerSecond = ParseRate(token, "EMULATOR_TOKEN_RATE") };
        if (get("EMULATOR_PREFILL_RATE") is { Length: > 0 } prefill) settings = settings with { PrefillTokensPerSecond = ParseRate(prefill, "EMULATOR_PREFILL_RATE") };
        if (get("EMULATOR_IMPORT_SECONDS") is { Length: > 0 } import)
        {
            if (!double.TryParse(import.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0 || seconds > 3600)
                throw new FormatException($"EMULATOR_IMPORT_SECONDS: '{import}' is not a number of seconds between 0 and 3600");
            settings = settings with { ImportTime = TimeSpan.FromSeconds(seconds) };
        }
        if (get("EMULATOR_START_MODE") is { Length: > 0 } mode)
            settings = settings with
            {
                StartMode = mode.Trim().ToLowerInvariant() switch
                {
                    "listen-first" => EngineEmulator.StartMode.ListenFirst,
                    "load-first" or "legacy" => EngineEmulator.StartMode.LoadFirst,
                    _ => throw new FormatException($"EMULATOR_START_MODE: '{mode}' is not listen-first or load-first"),
                },
            };
        settings = settings with { Fault = FaultPlan.Parse(get("EMULATOR_FAULT")) };
        if (get("EMULATOR_TOOL_CALL_CHUNKS") is { Length: > 0 } chunks)
            settings = settings with
            {
                ToolCallChunking = chunks.Trim().ToLowerInvariant() switch
                {
                    "whole" => EngineEmulator.ToolCallChunking.Whole,
                    "fragments" => EngineEmulator.ToolCallChunking.Fragments,
                    _ => throw new FormatException($"EMULATOR_TOOL_CALL_CHUNKS: '{chunks}' is not whole or fragments"),
                },
            };
        if (get("EMULATOR_HANDLER_PROCESS") is { Length: > 0 } handler)
            settings = settings with { OpenAiHandlerProcess = handler.Trim() is not ("0" or "false" or "no") };
        if (get("EMULATOR_PARENT_PID") is { Length: > 0 } parent && int.TryParse(parent, out var pid))
            settings = settings with { ParentPid = pid };
        return settings;
    }

    /// <summary>Parses <c>1500</c>, <c>1.5k</c>, <c>500M</c>, <c>2G</c> (decimal multipliers).</summary>
    public static double ParseRate(string text, string name)
    {
        var s = text.Trim();
        double multiplier = 1;
        if (s.Length > 0 && char.IsLetter(s[^1]))
        {
            multiplier = char.ToUpperInvariant(s[^1]) switch
            {
                'K' => 1e3,
                'M' => 1e6,
                'G' => 1e9,
                _ => throw new FormatException($"{name}: unknown suffix in '{text}' (K, M, G)"),
            };
            s = s[..^1];
        }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0 || double.IsInfinity(value))
            throw new FormatException($"{name}: '{text}' is not a positive number");
        return value * multiplier;
    }
}
