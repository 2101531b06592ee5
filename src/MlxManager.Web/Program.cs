using MlxManager.Core.Data;
using MlxManager.Web.Hosting;

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
