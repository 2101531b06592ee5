namespace MlxManager.Core.Library;

/// <summary>A veto on deleting a model, e.g. "a running server uses it" (registered by the server supervisor).</summary>
public interface IModelDeletionGuard
{
    /// <summary>Why the model must not be deleted now, or null to allow it.</summary>
    ValueTask<string?> GetRefusalAsync(LocalModel model, CancellationToken cancellationToken);
}
