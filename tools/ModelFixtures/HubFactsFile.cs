using System.Text.Json;

namespace MlxManager.ModelFixtures;

/// <summary>The sidecar file beside a repo's files in a HubEmulator root, holding what the Hub knows that
/// is not a file (downloads, likes, tags, gating). The emulator never serves it as a repo file.</summary>
public static class HubFactsFile
{
    public const string Name = ".hub.json";

    static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void Write(string repoFolder, HubFacts facts) =>
        File.WriteAllText(Path.Combine(repoFolder, Name), JsonSerializer.Serialize(facts, Options));

    /// <summary>Reads the sidecar; a repo without one gets default facts.</summary>
    public static HubFacts Read(string repoFolder)
    {
        var path = Path.Combine(repoFolder, Name);
        return File.Exists(path)
            ? JsonSerializer.Deserialize<HubFacts>(File.ReadAllText(path), Options) ?? new HubFacts()
            : new HubFacts();
    }
}
