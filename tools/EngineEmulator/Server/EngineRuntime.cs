using System.Runtime.InteropServices;
using MlxManager.EngineEmulator.Cli;
using MlxManager.EngineEmulator.Generation;
using MlxManager.EngineEmulator.Models;

namespace MlxManager.EngineEmulator.Server;

/// <summary>Everything one emulated engine process shares: its options and knobs, console, model slot, the
/// compute loop, the prompt cache, and the fault actions.</summary>
public sealed partial class EngineRuntime : IDisposable
{
    public EngineRuntime(EngineOptions options, EmulatorSettings settings, IModelHost host, EngineConsole console, TimeProvider time, HfCache cache, string? chatTemplate)
    {
        Options = options;
        Settings = settings;
        Host = host;
        Console = console;
        Time = time;
        HfCache = cache;
        Slot = new ModelSlot(host, options.Flavour == Flavour.MlxVlm || options.ModelType == "multimodal" ? LoaderKind.MlxVlm : LoaderKind.MlxLm, chatTemplate);
        Loop = new ComputeLoop(settings.TokensPerSecond, settings.PrefillTokensPerSecond, host.Device);
        PromptCache = new PromptCache((int)(options.Raw.Int("prompt_cache_size") ?? 10));
        StartedAt = time.GetUtcNow();
    }

    public EngineOptions Options { get; }
    public EmulatorSettings Settings { get; }
    public IModelHost Host { get; }
    public EngineConsole Console { get; }
    public TimeProvider Time { get; }
    public HfCache HfCache { get; }
    public ModelSlot Slot { get; }
    public ComputeLoop Loop { get; }
    public PromptCache PromptCache { get; }
    public DateTimeOffset StartedAt { get; }

    /// <summary>How this process starts: <c>EMULATOR_START_MODE</c>, else what the real engine does (see <see cref="EmulatorSettings.StartModeFor"/>).</summary>
    public StartMode StartMode => Settings.StartModeFor(Options.Flavour);

    public long UnixNow => Time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>The package versions emulated (also written as package metadata by <c>install</c> into a <c>bin</c> folder).</summary>
    public const string MlxLmVersion = "0.28.4";

    /// <summary>mlx_lm's <c>{mlx_lm version}-{mlx version}-{platform}-{gpu architecture}</c>.</summary>
    public const string SystemFingerprint = MlxLmVersion + "-0.29.3-macOS-15.6.1-arm64-arm-64bit-applegpu_g15s";
    public const string MlxVlmVersion = "0.3.9";
    public const string OpenAiServerVersion = "1.5.2";

    /// <summary>Ends the process the way a Metal out-of-memory error does: a C++ abort (SIGABRT, status 134).</summary>
    public void Crash()
    {
        Console.Stderr("libc++abi: terminating due to uncaught exception of type std::runtime_error: [METAL] Command buffer execution failed: Insufficient Memory (00000008:kIOGPUCommandBufferCallbackErrorOutOfMemory)");
        try
        {
            Abort();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Console.Stderr($"[emulator] abort() unavailable ({e.GetType().Name}); exiting with 134");
        }
        Environment.Exit(134);
    }

    [LibraryImport("libc", EntryPoint = "abort")]
    private static partial void Abort();

    public FaultHooks Faults => new(Settings.Fault.CrashMidStream, Settings.Fault.Hang, Crash);

    public void Dispose()
    {
        Loop.Dispose();
        Slot.Dispose();
        Host.Dispose();
    }
}
