namespace MlxManager.Core.Platform;

/// <summary>This machine's memory as far as running a model is concerned.</summary>
/// <param name="TotalBytes">Physical memory.</param>
/// <param name="AvailableBytes">Memory available right now (Linux MemAvailable); null where the platform does not say cheaply.</param>
/// <param name="BudgetBytes">What one model may use: the GPU's working set on Apple Silicon, MemTotal on Linux.</param>
/// <param name="BudgetRule">How the budget was obtained, in words for a tooltip.</param>
/// <param name="Platform">"macOS (Apple Silicon)", "Linux", …</param>
public sealed record SystemMemory(long TotalBytes, long? AvailableBytes, long BudgetBytes, string BudgetRule, string Platform);

/// <summary>Reads <see cref="SystemMemory"/> for the machine the manager runs on.</summary>
public interface ISystemMemoryProbe
{
    SystemMemory Read();
}
