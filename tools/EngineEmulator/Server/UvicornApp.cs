using System.Text.Json.Nodes;
using MlxManager.EngineEmulator.Python;

namespace MlxManager.EngineEmulator.Server;

/// <summary>What the two FastAPI/uvicorn engines share: uvicorn's start-up and failure lines, FastAPI's error
/// bodies, and the start sequence (lifespan load before listening, or listening first with the load behind).</summary>
public static class UvicornApp
{
    public static void Started(EngineConsole log)
    {
        log.Uvicorn("INFO", $"Started server process [{Environment.ProcessId}]");
        log.Uvicorn("INFO", "Waiting for application startup.");
    }

    public static void Running(EngineConsole log, string host, int port)
    {
        log.Uvicorn("INFO", "Application startup complete.");
        log.Uvicorn("INFO", $"Uvicorn running on http://{host}:{port} (Press CTRL+C to quit)");
    }

    /// <summary>uvicorn's lines on a graceful stop (SIGTERM/SIGINT).</summary>
    public static void Stopped(EngineConsole log)
    {
        log.Uvicorn("INFO", "Shutting down");
        log.Uvicorn("INFO", "Waiting for application shutdown.");
        log.Uvicorn("INFO", "Application shutdown complete.");
        log.Uvicorn("INFO", $"Finished server process [{Environment.ProcessId}]");
    }

    /// <summary>uvicorn's report of an exception in the lifespan; the caller exits after it.</summary>
    public static void StartupFailed(EngineConsole log, PythonException e, IEnumerable<PythonFrame> appFrames)
    {
        var traceback = e.WithOuterFrames(
        [
            new(PythonPaths.Package("starlette/routing.py"), 694, "lifespan", "async with self.lifespan_context(app) as maybe_state:"),
            new(PythonPaths.Std("contextlib.py"), 210, "__aenter__", "return await anext(self.gen)"),
            .. appFrames,
        ]).Format();
        log.Uvicorn("ERROR", traceback.TrimEnd('\n') + "\n");
        log.Uvicorn("ERROR", "Application startup failed. Exiting.");
    }

    public static void BindFailed(EngineConsole log, string host, int port) =>
        log.Uvicorn("ERROR", $"[Errno 48] error while attempting to bind on address ('{host}', {port}): address already in use");

    public static async Task JsonAsync(HttpContext context, int status, JsonNode body, bool pythonDumps = false)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(pythonDumps ? PythonJson.Dumps(body) : PythonJson.Compact(body));
    }

    public static Task DetailAsync(HttpContext context, int status, JsonNode detail) =>
        JsonAsync(context, status, new JsonObject { ["detail"] = detail });

    /// <summary>FastAPI's 422 for a missing body field.</summary>
    public static Task MissingFieldAsync(HttpContext context, string field, JsonNode? input) =>
        DetailAsync(context, 422, new JsonArray(new JsonObject
        {
            ["type"] = "missing",
            ["loc"] = new JsonArray("body", field),
            ["msg"] = "Field required",
            ["input"] = input?.DeepClone(),
        }));
}
