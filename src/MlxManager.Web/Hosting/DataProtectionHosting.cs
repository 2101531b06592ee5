using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using MlxManager.Core.Data;

namespace MlxManager.Web.Hosting;

/// <summary>Data-protection keys (they encrypt session and antiforgery cookies) kept in <c>&lt;data&gt;/keys/data-protection</c>.</summary>
public static class DataProtectionHosting
{
    public static WebApplicationBuilder AddDataProtection(this WebApplicationBuilder builder)
    {
        builder.Services.AddDataProtection().SetApplicationName("MlxManager");
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(services =>
            new ConfigureOptions<KeyManagementOptions>(options =>
            {
                var dataDirectory = services.GetRequiredService<DataDirectory>();
                dataDirectory.EnsureCreated();
                var folder = Directory.CreateDirectory(Path.Combine(dataDirectory.KeysPath, "data-protection"));
                options.XmlRepository = new FileSystemXmlRepository(folder, services.GetRequiredService<ILoggerFactory>());
            }));
        return builder;
    }
}
