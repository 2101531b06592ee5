using Markdig;
using Markdig.Extensions.EmphasisExtras;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace MlxManager.Core.Chat;

/// <summary>
/// Renders model output (Markdown) to HTML that is safe to put in the page: raw HTML from the model is escaped,
/// links keep only http, https and mailto targets (anything else — <c>javascript:</c>, <c>data:</c>, relative
/// paths — is shown as plain text), and images become links so that a model can't make the browser fetch URLs
/// on its own (a known way to leak conversation text). Code blocks carry <c>class="language-x"</c>; tables, task
/// lists, strikethrough and bare URLs are supported. Any text renders, so a growing, unfinished answer can be
/// re-rendered as it streams (an unclosed code fence shows as a code block until it closes).
/// </summary>
public sealed class ChatMarkdown
{
    private readonly MarkdownPipeline _pipeline = new MarkdownPipelineBuilder()
        .DisableHtml()
        .UsePipeTables()
        .UseTaskLists()
        .UseAutoLinks()
        .UseEmphasisExtras(EmphasisExtraOptions.Strikethrough)
        .UseSoftlineBreakAsHardlineBreak()
        .Build();

    /// <summary>Renders <paramref name="markdown"/> to safe HTML.</summary>
    public string Render(string? markdown)
    {
        if (string.IsNullOrEmpty(markdown))
        {
            return "";
        }

        var document = Markdown.Parse(markdown, _pipeline);
        foreach (var link in document.Descendants<LinkInline>().ToList())
        {
            SecureLink(link);
        }

        foreach (var autolink in document.Descendants<AutolinkInline>().ToList())
        {
            if (IsSafeUrl(autolink.Url))
            {
                MarkExternal(autolink);
            }
            else
            {
                autolink.ReplaceBy(new LiteralInline(autolink.Url));
            }
        }

        using var writer = new StringWriter();
        var renderer = new HtmlRenderer(writer);
        _pipeline.Setup(renderer);
        renderer.Render(document);
        writer.Flush();
        return writer.ToString();
    }

    /// <summary>True for absolute http, https and mailto URLs, judged the way a browser reads the scheme.</summary>
    public static bool IsSafeUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return false;
        }

        // Browsers drop tabs, newlines and control characters inside a scheme ("java\tscript:").
        var cleaned = string.Concat(url.Where(c => !char.IsControl(c) && !char.IsWhiteSpace(c)));
        return Uri.TryCreate(cleaned, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeMailto);
    }

    private static void SecureLink(LinkInline link)
    {
        if (link.IsImage)
        {
            link.IsImage = false; // show as a link to the image, never load it
            if (link.FirstChild is null && link.Url is { } imageUrl)
            {
                link.AppendChild(new LiteralInline("image: " + imageUrl));
            }
        }

        if (IsSafeUrl(link.Url))
        {
            MarkExternal(link);
            return;
        }

        // Keep the link text, drop the link.
        var child = link.FirstChild;
        while (child is not null)
        {
            var next = child.NextSibling;
            child.Remove();
            link.InsertBefore(child);
            child = next;
        }

        link.Remove();
    }

    private static void MarkExternal(Inline link)
    {
        var attributes = link.GetAttributes();
        attributes.AddPropertyIfNotExist("rel", "nofollow noopener noreferrer");
        attributes.AddPropertyIfNotExist("target", "_blank");
    }
}
