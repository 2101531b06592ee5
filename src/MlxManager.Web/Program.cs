using MlxManager.Web.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddMlxManager();
var app = builder.Build();
app.UseMlxManager();
app.Run();
