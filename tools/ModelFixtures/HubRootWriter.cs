namespace MlxManager.ModelFixtures;

/// <summary>Writes repos into a HubEmulator root: <c>&lt;root&gt;/&lt;org&gt;/&lt;name&gt;/</c> plus the sidecar of Hub facts.</summary>
public static class HubRootWriter
{
    public static WrittenRepo Write(string root, FixtureSpec spec)
    {
        var folder = Path.Combine(root, spec.Org, spec.Name);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        var written = RepoWriter.Write(folder, spec);
        HubFactsFile.Write(folder, spec.Hub);
        return written;
    }

    public static IReadOnlyList<WrittenRepo> WriteAll(string root, IEnumerable<FixtureSpec> specs) =>
        specs.Select(s => Write(root, s)).ToList();
}
