using System.Runtime.CompilerServices;

namespace MlxManager.Web.Tests.Chat.Infrastructure;

/// <summary>
/// Every test host watches files (configuration reload, asp-append-version); with the chat's many hosts running in
/// parallel that exceeded Linux's default of 128 inotify instances per user (GET /login then failed with an
/// IOException). Polling watchers use timers instead, which is all the tests need.
/// </summary>
internal static class FileWatching
{
    [ModuleInitializer]
    internal static void UsePolling() => Environment.SetEnvironmentVariable("DOTNET_USE_POLLING_FILE_WATCHER", "true");
}
