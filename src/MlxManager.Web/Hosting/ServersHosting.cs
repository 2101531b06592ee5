using MlxManager.Core.Chat.Servers;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MlxManager.Core.Servers;
using MlxManager.Web.Endpoints;
using MlxManager.Web.Chat;
using MlxManager.Web.Pages.Profiles;
using MlxManager.Web.Pages.Servers;

namespace MlxManager.Web.Hosting;

/// <summary>
/// Profiles and servers: the supervisor (a hosted service that re-attaches to running servers and starts auto-start
/// profiles), metrics sampling and engines (the browser's event stream is <c>Endpoints/ServerEndpoints</c>).
/// </summary>
public static class ServersHosting
{
    public static WebApplicationBuilder AddServers(this WebApplicationBuilder builder)
    {
        // After AddDatabase: hosted services start in registration order, so migrations have run when the
        // supervisor re-attaches to the servers recorded in app.db.
        ServersServiceCollectionExtensions.AddServers(builder.Services, builder.Configuration);
        builder.Services.AddSingleton<ServersViewBuilder>();
        builder.Services.AddScoped<MlxManager.Core.Profiles.ProfileEditor>();
        builder.Services.AddSingleton<ServersFragmentCache>();
        builder.Services.AddSingleton<IChatServerDirectory, SupervisorChatServers>(); // what the chat sees of the servers
        return builder;
    }
}
