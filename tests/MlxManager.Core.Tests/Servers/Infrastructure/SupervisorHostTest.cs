using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers.Infrastructure;

/// <summary>A test class with a <see cref="SupervisorHost"/> of its own per test, deleted with its data folder afterwards.</summary>
public abstract class SupervisorHostTest(EngineWorld world, ITestOutputHelper output) : IAsyncLifetime
{
    protected SupervisorHost Host { get; private set; } = null!;

    protected EngineWorld World => world;

    /// <summary>Settings on top of the host's defaults.</summary>
    protected virtual IDictionary<string, string?>? Settings => null;

    public async Task InitializeAsync() => Host = await SupervisorHost.StartAsync(world, output, settings: Settings);

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
    }
}
