using MlxManager.EngineEmulator.Models;
using MlxManager.EngineEmulator.Python;

namespace MlxManager.EngineEmulator.Server;

/// <summary>The model an engine has in memory, its start-up load and later swaps. One load at a time;
/// requests wait behind a load (the real engines load on their generation thread or in the lifespan).</summary>
public sealed class ModelSlot(IModelHost host, LoaderKind kind, string? chatTemplate) : IDisposable
{
    readonly SemaphoreSlim gate = new(1, 1);
    readonly TaskCompletionSource<LoadedModel?> startup = new(TaskCreationOptions.RunContinuationsAsynchronously);
    LoadedModel? current;

    public LoaderKind Kind { get; } = kind;

    /// <summary>The model in memory now, if any.</summary>
    public LoadedModel? Current => current;

    /// <summary>True while a load is running.</summary>
    public bool Loading { get; private set; }

    /// <summary>Set when the start-up load failed.</summary>
    public PythonException? StartupFailure { get; private set; }

    /// <summary>Completes with the start-up model (null when none was asked for). Never completes when the
    /// start-up load failed: that is how requests hang on mlx_lm.server.</summary>
    public Task<LoadedModel?> Startup => startup.Task;

    /// <summary>Loads the start-up model; rethrows the loader's failure after recording it.</summary>
    public async Task LoadStartupAsync(string? model)
    {
        if (model is null)
        {
            startup.TrySetResult(null);
            return;
        }
        try
        {
            var loaded = await LoadAsync(model, replaceCurrent: true);
            startup.TrySetResult(loaded);
        }
        catch (PythonException e)
        {
            StartupFailure = e;
            throw;
        }
    }

    /// <summary>Makes <paramref name="model"/> the one in memory (a no-op when it already is), dropping the old one
    /// first as the engines do. Throws the loader's failure, leaving no model loaded.</summary>
    public Task<LoadedModel> SwitchToAsync(string model) => LoadAsync(model, replaceCurrent: true);

    async Task<LoadedModel> LoadAsync(string model, bool replaceCurrent)
    {
        await gate.WaitAsync();
        try
        {
            if (current is { } same && same.Requested == model) return same;
            if (replaceCurrent)
            {
                current?.Dispose();
                current = null;
            }
            Loading = true;
            var loaded = await Task.Run(() => host.Load(model, Kind, chatTemplate, CancellationToken.None));
            current = loaded;
            return loaded;
        }
        finally
        {
            Loading = false;
            gate.Release();
        }
    }

    /// <summary>Drops the model in memory (mlx_vlm's <c>POST /unload</c>).</summary>
    public async Task UnloadAsync()
    {
        await gate.WaitAsync();
        try
        {
            current?.Dispose();
            current = null;
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose()
    {
        current?.Dispose();
        gate.Dispose();
    }
}
