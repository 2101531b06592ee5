using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Platform;

/// <summary>Chooses the memory probe for the operating system the manager runs on.</summary>
public static class SystemMemoryProbes
{
    public static ISystemMemoryProbe ForCurrentPlatform(ILoggerFactory? loggerFactory = null)
    {
        if (OperatingSystem.IsMacOS())
        {
            return new MacSystemMemoryProbe(loggerFactory?.CreateLogger<MacSystemMemoryProbe>());
        }

        if (OperatingSystem.IsLinux() && File.Exists(LinuxSystemMemoryProbe.DefaultPath))
        {
            return new LinuxSystemMemoryProbe();
        }

        return new RuntimeSystemMemoryProbe();
    }
}

/// <summary>Elsewhere: the total memory the .NET runtime sees.</summary>
public sealed class RuntimeSystemMemoryProbe : ISystemMemoryProbe
{
    public SystemMemory Read()
    {
        var total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return new SystemMemory(total, null, total, "total memory reported by the .NET runtime", System.Runtime.InteropServices.RuntimeInformation.OSDescription);
    }
}
