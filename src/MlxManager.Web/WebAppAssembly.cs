namespace MlxManager.Web;

/// <summary>
/// Names this assembly for <c>WebApplicationFactory&lt;WebAppAssembly&gt;</c> in tests (other projects
/// the tests reference have a global <c>Program</c> too).
/// </summary>
public sealed class WebAppAssembly;
