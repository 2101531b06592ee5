using MlxManager.Core.Platform.Service;
using MlxManager.Web.Hosting;

// `service install|uninstall|status`: a per-user service (LaunchAgent / systemd user unit), before any host is built.
if (args is ["service", .. var verb])
{
    return await ServiceCommand.ForThisProcess(Console.Out, Console.Error).RunAsync(verb, CancellationToken.None);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddMlxManager();
var app = builder.Build();
app.UseMlxManager();
app.Run();
return 0;
