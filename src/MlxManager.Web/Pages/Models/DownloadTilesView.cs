using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Html;
using MlxManager.Core.Discovery;
using MlxManager.Core.Downloads;

namespace MlxManager.Web.Pages.Models;

/// <summary>What the download tiles partial renders (the page, the SSE stream and the action endpoints all use it).</summary>
/// <param name="CanManage">The viewer may start, pause, resume, cancel, retry and dismiss downloads (admins).</param>
/// <param name="HubEndpoint">Base URL of the Hub, for the links to model pages.</param>
public sealed partial record DownloadTilesView(
    IReadOnlyList<DownloadView> Downloads,
    bool CanManage,
    string HubEndpoint)
{
    /// <summary>Where the page, the SSE stream and the endpoints find the partial.</summary>
    public const string PartialPath = "/Pages/Models/Partials/_DownloadTiles.cshtml";

    /// <summary>"1.2 GB"-style size.</summary>
    public static string Bytes(long bytes) => ModelFormat.Bytes(bytes);

    /// <summary>"35.2 MB/s".</summary>
    public static string Speed(double bytesPerSecond) => bytesPerSecond < 1 ? "–" : ModelFormat.Bytes((long)bytesPerSecond) + "/s";

    /// <summary>
    /// A message as HTML with its http(s) URLs as links (the licence page of a gated model); everything is encoded,
    /// and a trailing full stop or bracket is not part of a link.
    /// </summary>
    public static IHtmlContent WithLinks(string message)
    {
        var html = new HtmlContentBuilder();
        var at = 0;
        foreach (Match link in LinkPattern().Matches(message))
        {
            html.Append(message[at..link.Index]);
            html.AppendHtml("<a href=\"");
            html.Append(link.Value);
            html.AppendHtml("\" target=\"_blank\" rel=\"noopener noreferrer\">");
            html.Append(link.Value);
            html.AppendHtml("</a>");
            at = link.Index + link.Length;
        }

        html.Append(message[at..]);
        return html;
    }

    [GeneratedRegex(@"https?://[^\s""<>]+[^\s""<>.,;:!?)\]]")]
    private static partial Regex LinkPattern();

    /// <summary>"42 s", "3 min", "1 h 05 min".</summary>
    public static string Eta(int? seconds) => seconds switch
    {
        null => "–",
        < 60 => $"{Math.Max(1, seconds.Value)} s",
        < 3600 => $"{(seconds.Value + 59) / 60} min",
        _ => $"{seconds.Value / 3600} h {(seconds.Value % 3600) / 60:00} min",
    };
}

/// <summary>
/// The line under the download tiles that answers a download button (#download-notice). The buttons change the
/// records only; the tiles themselves have one writer, the SSE stream, so an answer can never paint an older state
/// over a newer one.
/// </summary>
/// <param name="Text">Null for a quiet success (the tile shows what happened).</param>
/// <param name="OutOfBand">Rendered with <c>hx-swap-oob</c>, for an answer whose target is elsewhere.</param>
public sealed record DownloadNotice(string? Text, bool IsError, bool OutOfBand = false)
{
    public const string PartialPath = "/Pages/Models/Partials/_DownloadNotice.cshtml";

    public static DownloadNotice None { get; } = new(null, false);
}
