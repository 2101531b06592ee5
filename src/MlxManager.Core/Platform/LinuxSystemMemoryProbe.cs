using System.Globalization;

namespace MlxManager.Core.Platform;

/// <summary>Linux: MemTotal (the budget) and MemAvailable from /proc/meminfo.</summary>
public sealed class LinuxSystemMemoryProbe : ISystemMemoryProbe
{
    public const string DefaultPath = "/proc/meminfo";

    private readonly string _path;

    public LinuxSystemMemoryProbe(string path = DefaultPath)
    {
        _path = path;
    }

    public SystemMemory Read() => FromMeminfo(File.ReadAllText(_path));

    /// <summary>Builds the reading from the text of /proc/meminfo.</summary>
    /// <exception cref="FormatException">When MemTotal is missing.</exception>
    public static SystemMemory FromMeminfo(string meminfo)
    {
        ArgumentNullException.ThrowIfNull(meminfo);
        var total = Field(meminfo, "MemTotal") ?? throw new FormatException("/proc/meminfo has no MemTotal line");
        var available = Field(meminfo, "MemAvailable");
        return new SystemMemory(total, available, total, "Linux: MemTotal from /proc/meminfo (no separate GPU working set)", "Linux");
    }

    // Lines look like "MemTotal:       16318440 kB".
    private static long? Field(string meminfo, string name)
    {
        foreach (var line in meminfo.Split('\n'))
        {
            if (!line.StartsWith(name + ":", StringComparison.Ordinal))
            {
                continue;
            }

            var parts = line[(name.Length + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            var unit = parts.Length > 1 ? parts[1] : string.Empty;
            return unit.Equals("kB", StringComparison.OrdinalIgnoreCase) ? value * 1024 : value;
        }

        return null;
    }
}
