using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace MlxManager.Web.Pages;

/// <summary>Renders error status codes of pages (403, 404, 429...) re-executed by the status-code-pages middleware.</summary>
[IgnoreAntiforgeryToken]
public sealed class StatusModel : PageModel
{
    public int Code { get; private set; }

    public (string Title, string Text) Message => Code switch
    {
        400 => ("Bad request", "The request was not valid. If you submitted a form, reload the page and try again."),
        403 => ("Not allowed", "Your account may not open this page."),
        404 => ("Page not found", "There is no page at this address."),
        405 => ("Not allowed", "This address does not accept that kind of request."),
        429 => ("Too many attempts", "Wait a minute, then try again."),
        _ => ("Something went wrong", $"The request ended with status {Code}."),
    };

    public void OnGet(int code) => Show(code);

    public void OnPost(int code) => Show(code);

    private void Show(int code)
    {
        Code = code is >= 400 and <= 599 ? code : 404;
        // Opened directly rather than re-executed: answer with the status it describes.
        if (HttpContext.Features.Get<IStatusCodeReExecuteFeature>() is null)
        {
            Response.StatusCode = Code;
        }
    }
}
