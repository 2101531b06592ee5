namespace MlxManager.Web.Hosting;

/// <summary>
/// Start-up work that needs nothing but the data folder (preparing a database), begun once on a pool thread as early
/// as <c>UseMlxManager</c> can (<see cref="StartupWorkHosting.StartEarly{TWork}"/>, right after the data-folder lock), so
/// that it runs on the second core while the request pipeline is built; a hosted service awaits it at its place in the
/// start order (<see cref="StartupWorkHosting.AddStartupWork{TWork}"/>), starting it there if nobody did.
/// </summary>
public abstract class StartupWork
{
    private readonly Lazy<Task> _done;

    protected StartupWork() => _done = new(() => Task.Run(RunAsync));

    /// <summary>The work, started by the first call.</summary>
    public Task Start() => _done.Value;

    protected abstract Task RunAsync();
}

public static class StartupWorkHosting
{
    /// <summary>Registers <typeparamref name="TWork"/> and, at this place in the hosted services' order, a wait for it.</summary>
    public static IServiceCollection AddStartupWork<TWork>(this IServiceCollection services)
        where TWork : StartupWork
    {
        services.AddSingleton<TWork>();
        services.AddHostedService<Awaiter<TWork>>();
        return services;
    }

    /// <summary>Starts <typeparamref name="TWork"/> on a pool thread now.</summary>
    public static WebApplication StartEarly<TWork>(this WebApplication app)
        where TWork : StartupWork
    {
        app.Services.GetRequiredService<TWork>().Start();
        return app;
    }

    private sealed class Awaiter<TWork>(TWork work) : IHostedService
        where TWork : StartupWork
    {
        public Task StartAsync(CancellationToken cancellationToken) => work.Start().WaitAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
