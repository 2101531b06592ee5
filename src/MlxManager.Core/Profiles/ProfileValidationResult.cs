namespace MlxManager.Core.Profiles;

/// <summary>
/// Errors (which block saving) and warnings (which are shown but allow saving), each keyed by the
/// <see cref="Profile"/> property they belong to (<see cref="ProfileFieldNames.Of"/>), so a form can put
/// them next to the right input.
/// </summary>
public sealed class ProfileValidationResult
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _warnings = new(StringComparer.Ordinal);

    public bool IsValid => _errors.Count == 0;

    public IReadOnlyDictionary<string, IReadOnlyList<string>> Errors => View(_errors);

    public IReadOnlyDictionary<string, IReadOnlyList<string>> Warnings => View(_warnings);

    /// <summary>The errors of one field (empty when none).</summary>
    public IReadOnlyList<string> ErrorsFor(ProfileField field) =>
        _errors.TryGetValue(ProfileFieldNames.Of(field), out var list) ? list : [];

    /// <summary>The warnings of one field (empty when none).</summary>
    public IReadOnlyList<string> WarningsFor(ProfileField field) =>
        _warnings.TryGetValue(ProfileFieldNames.Of(field), out var list) ? list : [];

    public void AddError(ProfileField field, string message) => Add(_errors, ProfileFieldNames.Of(field), message);

    public void AddWarning(ProfileField field, string message) => Add(_warnings, ProfileFieldNames.Of(field), message);

    /// <summary>Adds every error and warning of <paramref name="other"/> (e.g. the database uniqueness check).</summary>
    public ProfileValidationResult Merge(ProfileValidationResult other)
    {
        foreach (var (key, messages) in other._errors)
        {
            messages.ForEach(m => Add(_errors, key, m));
        }

        foreach (var (key, messages) in other._warnings)
        {
            messages.ForEach(m => Add(_warnings, key, m));
        }

        return this;
    }

    private static void Add(Dictionary<string, List<string>> target, string key, string message)
    {
        if (!target.TryGetValue(key, out var list))
        {
            target[key] = list = [];
        }

        if (!list.Contains(message))
        {
            list.Add(message);
        }
    }

    private static Dictionary<string, IReadOnlyList<string>> View(Dictionary<string, List<string>> source) =>
        source.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value, StringComparer.Ordinal);
}
