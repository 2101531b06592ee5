namespace MlxManager.Core.Library;

/// <summary>Repo id ↔ cache folder name: <c>org/name</c> ↔ <c>models--org--name</c>.</summary>
public static class HfCacheNames
{
    public const string ModelPrefix = "models--";
    public const string Separator = "--";

    public static string ModelFolderName(string repoId)
    {
        if (!IsPlausibleRepoId(repoId))
        {
            throw new ArgumentException($"\"{repoId}\" is not a repository id (org/name)", nameof(repoId));
        }

        return ModelPrefix + repoId.Replace("/", Separator, StringComparison.Ordinal);
    }

    /// <summary>
    /// Parses <c>models--org--name</c>: the part after the prefix is split once, on its first <c>--</c>, so a name
    /// containing <c>--</c> survives (<c>models--org--a--b</c> is <c>org/a--b</c>). A folder with no <c>--</c> after
    /// the prefix is an id without organisation (<c>models--gpt2</c> is <c>gpt2</c>).
    /// </summary>
    public static bool TryParseModelFolderName(string folderName, out string repoId)
    {
        repoId = string.Empty;
        if (!folderName.StartsWith(ModelPrefix, StringComparison.Ordinal) || folderName.Length == ModelPrefix.Length)
        {
            return false;
        }

        var rest = folderName[ModelPrefix.Length..];
        var split = rest.IndexOf(Separator, StringComparison.Ordinal);
        if (split == 0 || split == rest.Length - Separator.Length)
        {
            return false;
        }

        repoId = split < 0 ? rest : $"{rest[..split]}/{rest[(split + Separator.Length)..]}";
        return true;
    }

    /// <summary>One or two non-empty segments of safe characters; never "." or ".." or a path separator trick.</summary>
    public static bool IsPlausibleRepoId(string? repoId)
    {
        if (string.IsNullOrWhiteSpace(repoId))
        {
            return false;
        }

        var parts = repoId.Split('/');
        return parts.Length is 1 or 2 && parts.All(part =>
            part.Length > 0
            && part != "."
            && part != ".."
            && part.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'));
    }
}
