using MlxManager.Core.Discovery;
using MlxManager.Core.Downloads;

namespace MlxManager.Web.Pages.Models;

/// <summary>What the download tiles partial renders (the page, the SSE stream and the action endpoints all use it).</summary>
/// <param name="CanManage">The viewer may start, pause, resume, cancel, retry and dismiss downloads (admins).</param>
/// <param name="HubEndpoint">Base URL of the Hub, for the links to model pages.</param>
/// <param name="Notice">A sentence about the last action (shown above the tiles), or null.</param>
public sealed record DownloadTilesView(
    IReadOnlyList<DownloadView> Downloads,
    bool CanManage,
    string HubEndpoint,
    string? Notice = null,
    bool NoticeIsError = false)
{
    /// <summary>Where the page, the SSE stream and the endpoints find the partial.</summary>
    public const string PartialPath = "/Pages/Models/Partials/_DownloadTiles.cshtml";

    /// <summary>"1.2 GB"-style size.</summary>
    public static string Bytes(long bytes) => ModelFormat.Bytes(bytes);

    /// <summary>"35.2 MB/s".</summary>
    public static string Speed(double bytesPerSecond) => bytesPerSecond < 1 ? "–" : ModelFormat.Bytes((long)bytesPerSecond) + "/s";

    /// <summary>"42 s", "3 min", "1 h 05 min".</summary>
    public static string Eta(int? seconds) => seconds switch
    {
        null => "–",
        < 60 => $"{Math.Max(1, seconds.Value)} s",
        < 3600 => $"{(seconds.Value + 59) / 60} min",
        _ => $"{seconds.Value / 3600} h {(seconds.Value % 3600) / 60:00} min",
    };
}
