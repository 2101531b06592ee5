using Xunit;

namespace MlxManager.Testing;

/// <summary>
/// A fact that needs Linux (<c>/proc</c>, <c>posix_spawn</c> flags, process groups): on other systems it is reported as
/// skipped, with the reason, instead of passing without testing anything.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute(params string[] requiredFiles)
    {
        Skip = LinuxOnly.SkipReason(requiredFiles);
    }
}

/// <summary>A theory that needs Linux; see <see cref="LinuxFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxTheoryAttribute : TheoryAttribute
{
    public LinuxTheoryAttribute(params string[] requiredFiles)
    {
        Skip = LinuxOnly.SkipReason(requiredFiles);
    }
}

internal static class LinuxOnly
{
    /// <summary>Null on Linux with every required file present; otherwise why the test cannot run here.</summary>
    public static string? SkipReason(IReadOnlyList<string> requiredFiles)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "Needs Linux: it reads /proc or relies on Linux process behaviour.";
        }

        return requiredFiles.FirstOrDefault(file => !File.Exists(file)) is { } missing
            ? $"Needs {missing}, which this machine does not have."
            : null;
    }
}
