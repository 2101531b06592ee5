using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace MlxManager.Web.Pages;

/// <summary>Shown when a page request failed on the server. The exception was logged with the same correlation id.</summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class ErrorModel : PageModel
{
    public string CorrelationId => HttpContext.TraceIdentifier;

    public bool IsBadRequest => Response.StatusCode is >= 400 and < 500;

    public void OnGet() => KeepStatus();

    public void OnPost() => KeepStatus();

    private void KeepStatus()
    {
        if (HttpContext.Features.Get<IExceptionHandlerPathFeature>() is null)
        {
            Response.StatusCode = StatusCodes.Status500InternalServerError;
        }
    }
}
