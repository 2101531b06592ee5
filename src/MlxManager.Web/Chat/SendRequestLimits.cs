using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.Options;
using MlxManager.Core.Chat;
using MlxManager.Core.Chat.History;

namespace MlxManager.Web.Chat;

/// <summary>
/// Sizes the chat page's Send request from the chat settings (<see cref="ChatOptions.MaxMessageBytes"/>) instead of
/// Kestrel's 30 MB and the form reader's 128 MB, for that handler only, and answers 413 with the limit when a message
/// is larger. It runs before antiforgery and model binding, which would otherwise read the body first and turn a
/// cut-off upload into an empty form ("Write a message or attach a file.").
/// </summary>
public sealed class SendRequestLimits(IOptions<ChatOptions> options) : IAsyncAuthorizationFilter
{
    /// <summary>The filter's order: before the antiforgery filter (1000), which reads the form for its token.</summary>
    public const int Order = -3000;

    private const long DrainAllowance = 64L * 1024 * 1024;

    public async Task OnAuthorizationAsync(AuthorizationFilterContext context)
    {
        var http = context.HttpContext;
        if (!HttpMethods.IsPost(http.Request.Method)
            || !string.Equals(http.Request.Query["handler"], "Send", StringComparison.OrdinalIgnoreCase)
            || !http.Request.HasFormContentType)
        {
            return;
        }

        var limit = options.Value.MaxMessageBytes;
        var size = http.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (http.Request.ContentLength is { } length && length > limit)
        {
            // A client still sending gets a reset connection instead of the answer unless the body is read first;
            // read (and drop) it when it is not far above the limit (64 MB at most), so the page can show why.
            if (length - limit <= Math.Min(limit, DrainAllowance) && size is { IsReadOnly: false })
            {
                size.MaxRequestBodySize = length;
                await http.Request.Body.CopyToAsync(Stream.Null, http.RequestAborted);
            }

            context.Result = TooLarge(limit);
            return;
        }

        if (size is { IsReadOnly: false })
        {
            size.MaxRequestBodySize = limit;
        }

        http.Features.Set<IFormFeature>(new FormFeature(http.Request, new FormOptions { MultipartBodyLengthLimit = limit }));
        try
        {
            await http.Request.ReadFormAsync(http.RequestAborted);
        }
        catch (BadHttpRequestException tooLarge) when (tooLarge.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            context.Result = TooLarge(limit); // a body without Content-Length that went on past the limit
        }
    }

    private JsonResult TooLarge(long limit)
    {
        var settings = options.Value;
        var each = Math.Max(Math.Max(settings.MaxVideoBytes, settings.MaxImageBytes), settings.MaxTextFileBytes);
        return new JsonResult(new
        {
            error = $"The message is too large to send: at most {AttachmentIntake.DescribeSize(limit)} at once "
                + $"({settings.MaxAttachments} attachments of up to {AttachmentIntake.DescribeSize(each)}).",
        })
        { StatusCode = StatusCodes.Status413PayloadTooLarge };
    }
}
