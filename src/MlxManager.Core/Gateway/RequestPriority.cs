namespace MlxManager.Core.Gateway;

/// <summary>
/// Where a request stands in a profile's lane (<see cref="GatewayLanes"/>): batch requests wait while interactive ones
/// are queued. A personal key carries one (chosen when it is created); API tokens and the web chat are interactive.
/// </summary>
public enum RequestPriority
{
    Interactive,
    Batch,
}
