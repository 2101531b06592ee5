using MlxManager.EngineEmulator.Generation;

namespace MlxManager.EngineEmulator.Models;

/// <summary>Where a model's weights live and its generation steps run.</summary>
public interface IModelHost : IDisposable
{
    /// <summary>Loads a model; throws <see cref="Python.PythonException"/> as the engine's loader would.</summary>
    LoadedModel Load(string model, LoaderKind kind, string? chatTemplate, CancellationToken cancellationToken);

    IComputeDevice Device { get; }
}

/// <summary>Weights and compute in this process (mlx_lm.server, mlx_vlm.server).</summary>
public sealed class LocalModelHost(ModelLoader loader) : IModelHost
{
    public IComputeDevice Device => LocalComputeDevice.Instance;

    public LoadedModel Load(string model, LoaderKind kind, string? chatTemplate, CancellationToken cancellationToken) =>
        loader.Load(model, kind, cancellationToken, chatTemplate);

    public void Dispose()
    {
    }
}
