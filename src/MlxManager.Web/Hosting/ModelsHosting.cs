using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using MlxManager.Core.Discovery;
using MlxManager.Core.Discovery.Jobs;
using MlxManager.Core.Hub;
using MlxManager.Core.Library;
using MlxManager.Web.Models;

namespace MlxManager.Web.Hosting;

/// <summary>
/// The models feature: the local library (HF cache + extra folders), detection (jobs + cache), the Hub client
/// (typed <see cref="HttpClient"/>, no automatic redirects), the settings stored by the admin Settings page, and the
/// Models page's search cache. Settings: <c>MlxManager:HuggingFace</c>, <c>MlxManager:Library</c>, <c>MlxManager:Hub</c>.
/// </summary>
public static class ModelsHosting
{
    public static WebApplicationBuilder AddModels(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddModelLibrary(builder.Configuration);
        services.AddModelDiscovery();
        services.AddMemoryCache();

        services.AddSingleton<ISettingProtector, DataProtectionSettingProtector>();
        services.AddSingleton<ModelSettingsStore>();
        services.AddSingleton<IStoredHubToken>(provider => provider.GetRequiredService<ModelSettingsStore>());
        services.AddSingleton<IHubConnectionSource>(provider => new HubConnectionSource(
            provider.GetRequiredService<HfEnvironment>(), provider.GetRequiredService<IStoredHubToken>()));
        services.AddHubClient();                 // one resilience pipeline for every Hub request

        services.AddSingleton<ModelDetections>();
        services.AddScoped<ModelDetectionJob>();
        services.AddScoped<ModelCatalog>();
        services.AddSingleton<HubSearchCache>();
        services.AddHostedService<ModelSettingsStartup>();
        return builder;
    }

    /// <summary>Protects the stored Hub token with the app's data-protection keys (kept in &lt;data&gt;/keys).</summary>
    private sealed class DataProtectionSettingProtector(IDataProtectionProvider provider) : ISettingProtector
    {
        private readonly IDataProtector _protector = provider.CreateProtector("MlxManager.Settings.v1");

        public string Protect(string plaintext) => _protector.Protect(plaintext);

        public string Unprotect(string ciphertext) => _protector.Unprotect(ciphertext);
    }

    /// <summary>Loads the stored settings once at start-up (after migrations), so extra folders apply before any scan.</summary>
    private sealed class ModelSettingsStartup(ModelSettingsStore settings) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => settings.GetAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
