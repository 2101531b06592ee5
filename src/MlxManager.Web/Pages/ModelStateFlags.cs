using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace MlxManager.Web.Pages;

/// <summary>Helpers for marking invalid inputs the way Pico styles them.</summary>
public static class ModelStateFlags
{
    /// <summary><c>"true"</c> when <paramref name="key"/> has errors, otherwise null (Razor then omits the attribute).</summary>
    public static string? InvalidFlag(this ModelStateDictionary modelState, string key) =>
        modelState.TryGetValue(key, out var entry) && entry.Errors.Count > 0 ? "true" : null;
}
