using MlxManager.Core.Data;
using MlxManager.Core.Platform.Service;
using MlxManager.Web.Hosting;

// `service install|uninstall|status`: a per-user service (LaunchAgent / systemd user unit), before any host is built.
if (args is ["service", .. var verb])
{
    return await ServiceCommand.ForThisProcess(Console.Out, Console.Error).RunAsync(verb, CancellationToken.None);
}

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddMlxManager();
    var app = builder.Build();
    app.UseMlxManager();
    app.Run();
    return 0;
}
catch (DataFolderInUseException inUse)
{
    // Starting the app twice is a usual slip, not a crash: one line saying what to do, no stack trace.
    Console.Error.WriteLine(inUse.Message);
    return 1;
}
