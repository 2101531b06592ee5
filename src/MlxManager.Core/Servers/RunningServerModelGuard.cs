using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Library;

namespace MlxManager.Core.Servers;

/// <summary>
/// Refuses to delete a model that a server is serving (starting, loading, ready or stopping): its engine has the
/// files mapped, and deleting them under it would crash it.
/// </summary>
/// <remarks>
/// The directory is looked up when asked, not injected: <see cref="ModelLibrary"/> takes its guards at
/// construction, and the supervisor needs the library, so a constructor dependency would be a cycle.
/// </remarks>
public sealed class RunningServerModelGuard(IServiceProvider services) : IModelDeletionGuard
{
    public ValueTask<string?> GetRefusalAsync(LocalModel model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        var directory = services.GetRequiredService<IServerDirectory>();
        var user = directory.Servers.FirstOrDefault(s => s.IsActive && Uses(s, model));
        return ValueTask.FromResult(user is null
            ? null
            : $"{model.RepoId} is in use by the {user.State.Word()} server of the profile \"{user.Profile.Name}\". Stop that server first.");
    }

    private static bool Uses(ServerSnapshot server, LocalModel model)
    {
        var reference = server.Model.Reference;
        return string.Equals(reference, model.RepoId, StringComparison.Ordinal)
               || (model.SnapshotPath is { } snapshot && SamePath(reference, snapshot))
               || SamePath(reference, model.RootPath)
               || (Path.IsPathFullyQualified(reference) && IsInside(reference, model.RootPath));
    }

    private static bool SamePath(string a, string b) =>
        Path.IsPathFullyQualified(a) && string.Equals(Path.GetFullPath(a).TrimEnd('/'), Path.GetFullPath(b).TrimEnd('/'), StringComparison.Ordinal);

    private static bool IsInside(string path, string folder) =>
        Path.GetFullPath(path).StartsWith(Path.GetFullPath(folder).TrimEnd('/') + "/", StringComparison.Ordinal);
}
