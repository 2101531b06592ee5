using MlxManager.EngineEmulator;

namespace MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

/// <summary>One engine process shared by the tests of a class, over its own HF cache of small fixtures.
/// Started once, killed (with its tree) at the end.</summary>
public abstract class EngineFixture : IAsyncLifetime
{
    public ModelCache Cache { get; } = new();
    public EngineProcess Engine { get; private set; } = null!;

    protected abstract Flavour Flavour { get; }
    protected abstract IEnumerable<string> Arguments { get; }
    protected virtual IEnumerable<(string, string)> ExtraEnvironment => [];

    public HttpClient Http => Engine.Http;

    public async Task InitializeAsync()
    {
        Engine = EngineProcess.Start(Flavour, Arguments, Cache.Environment([.. ExtraEnvironment]));
        await Engine.WaitListeningAsync();
    }

    public Task DisposeAsync()
    {
        Engine.Dispose();
        Cache.Dispose();
        return Task.CompletedTask;
    }
}
