using Microsoft.Extensions.FileProviders;
using MlxManager.Core.Data;

namespace MlxManager.Web.Hosting;

/// <summary>Where the app keeps its files and where it listens.</summary>
public static class DataFolderHosting
{
    /// <summary>Listening address when neither <c>--urls</c>/<c>ASPNETCORE_URLS</c> nor <c>MlxManager:Urls</c> is set.</summary>
    public const string DefaultUrl = "http://127.0.0.1:10240";

    /// <summary>Setting that overrides <see cref="DefaultUrl"/> (semicolon-separated like <c>--urls</c>).</summary>
    public const string UrlsSetting = "MlxManager:Urls";

    public static WebApplicationBuilder AddDataFolder(this WebApplicationBuilder builder)
    {
        // Resolved from the final configuration (tests and hosts may add sources until Build()).
        builder.Services.AddSingleton(services => DataDirectory.FromConfiguration(services.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton<DataFolderLock>();

        if (string.IsNullOrWhiteSpace(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(builder.Configuration[UrlsSetting] is { Length: > 0 } urls ? urls : DefaultUrl);
        }

        UseBuiltWebRoot(builder.Environment);
        return builder;
    }

    // wwwroot lives at the repository root and is copied next to the binaries on build and publish
    // (see MlxManager.Web.csproj). The default web root would be <content root>/wwwroot, which does
    // not exist when running from source, so serve the copy next to the binaries when there is one.
    private static void UseBuiltWebRoot(IWebHostEnvironment environment)
    {
        var candidates = new[]
        {
            Path.Combine(AppContext.BaseDirectory, "wwwroot"),
            Path.Combine(environment.ContentRootPath, "wwwroot"),
        };
        var webRoot = candidates.FirstOrDefault(Directory.Exists);
        if (webRoot is null || string.Equals(Path.GetFullPath(webRoot), environment.WebRootPath, StringComparison.Ordinal))
        {
            return;
        }
        environment.WebRootPath = Path.GetFullPath(webRoot);
        environment.WebRootFileProvider = new PhysicalFileProvider(environment.WebRootPath);
    }
}
