using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MlxManager.Core.Hub;
using MlxManager.Core.Library;

namespace MlxManager.Core.Downloads;

public static class DownloadServiceCollectionExtensions
{
    /// <summary>
    /// Registers model downloads: <see cref="DownloadOptions"/> (section <c>MlxManager:Downloads</c>), the file-list store
    /// <see cref="FileRepoManifestStore"/> in <paramref name="manifestsDirectory"/> (also as the library's
    /// <see cref="IRepoManifestStore"/>), <see cref="IDiskSpace"/>, <see cref="ModelDownloader"/>, the
    /// <see cref="DownloadQueue"/>, the jobs <see cref="DownloadJob"/> and <see cref="DownloadRecovery"/> (the host
    /// serves the <see cref="DownloadJob.HangfireQueue"/> queue and schedules the recovery), and the hosted
    /// <see cref="DownloadBoard"/>. Needs the library (<c>AddModelLibrary</c>), the <see cref="HubClient"/>, the app
    /// database and Hangfire's <c>IBackgroundJobClient</c> and <c>JobStorage</c>.
    /// </summary>
    public static IServiceCollection AddModelDownloads(this IServiceCollection services, Func<IServiceProvider, string> manifestsDirectory)
    {
        ArgumentNullException.ThrowIfNull(manifestsDirectory);
        services.AddOptions<DownloadOptions>().BindConfiguration(DownloadOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IDiskSpace, VolumeDiskSpace>();
        services.TryAddSingleton(provider => new FileRepoManifestStore(manifestsDirectory(provider)));
        services.Replace(ServiceDescriptor.Singleton<IRepoManifestStore>(provider => provider.GetRequiredService<FileRepoManifestStore>()));
        services.AddTransient(provider => new ModelDownloader(
            provider.GetRequiredService<HubClient>(),
            provider.GetRequiredService<HfEnvironment>(),
            provider.GetRequiredService<IDiskSpace>(),
            provider.GetRequiredService<FileRepoManifestStore>(),
            provider.GetRequiredService<IOptions<DownloadOptions>>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetService<Microsoft.Extensions.Logging.ILogger<ModelDownloader>>(),
            provider.GetService<ModelLibrary>()));
        services.AddSingleton<DownloadRuns>();
        services.AddSingleton<DownloadBoard>();
        services.AddHostedService(provider => provider.GetRequiredService<DownloadBoard>());
        services.AddSingleton<DownloadQueue>();
        services.AddTransient<DownloadJob>();
        services.AddTransient<DownloadRecovery>();
        return services;
    }
}
