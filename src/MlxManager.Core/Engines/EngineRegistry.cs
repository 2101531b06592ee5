using System.Reflection;

namespace MlxManager.Core.Engines;

/// <summary>
/// All engine definitions, by key. <see cref="Discover"/> finds every concrete <see cref="IEngineDefinition"/>
/// in this assembly, so a new engine is one new file.
/// </summary>
public sealed class EngineRegistry
{
    private readonly Dictionary<string, IEngineDefinition> _byKey;

    public EngineRegistry(IEnumerable<IEngineDefinition> definitions)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        All = definitions.OrderBy(d => d.SuggestionOrder).ThenBy(d => d.Key, StringComparer.Ordinal).ToList();
        _byKey = new Dictionary<string, IEngineDefinition>(StringComparer.Ordinal);
        foreach (var definition in All)
        {
            if (!_byKey.TryAdd(definition.Key, definition))
            {
                throw new InvalidOperationException($"Two engine definitions use the key '{definition.Key}'.");
            }
        }
    }

    /// <summary>Every engine, in suggestion order.</summary>
    public IReadOnlyList<IEngineDefinition> All { get; }

    /// <summary>A registry of every engine defined in this assembly (public, non-abstract, parameterless).</summary>
    public static EngineRegistry Discover() =>
        new(typeof(IEngineDefinition).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, IsPublic: true }
                        && typeof(IEngineDefinition).IsAssignableFrom(t)
                        && t.GetConstructor(BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes) is not null)
            .Select(t => (IEngineDefinition)Activator.CreateInstance(t)!));

    public bool TryGet(string? key, out IEngineDefinition definition)
    {
        if (key is not null && _byKey.TryGetValue(key, out var found))
        {
            definition = found;
            return true;
        }

        definition = null!;
        return false;
    }

    /// <summary>The engine with <paramref name="key"/>, or an exception naming the known keys.</summary>
    public IEngineDefinition Get(string key) =>
        TryGet(key, out var definition)
            ? definition
            : throw new KeyNotFoundException($"Unknown engine '{key}'. Known engines: {string.Join(", ", _byKey.Keys)}.");

    /// <summary>
    /// The engine to propose for a model: the first (by <see cref="IEngineDefinition.SuggestionOrder"/>) that
    /// can take the model's input — vision models go to an engine that accepts images.
    /// </summary>
    public EngineSuggestion Suggest(bool isVision)
    {
        var engine = All.FirstOrDefault(d => !isVision || d.AcceptsImages)
                     ?? throw new InvalidOperationException("No engine is defined.");
        var reason = isVision
            ? $"The model takes images, and {engine.Key} accepts image input."
            : $"A text model: {engine.Key} is the official MLX text server.";
        return new EngineSuggestion(engine, reason);
    }
}

/// <summary>An engine proposed for a model, with the reason to show next to it.</summary>
public sealed record EngineSuggestion(IEngineDefinition Engine, string Reason);
