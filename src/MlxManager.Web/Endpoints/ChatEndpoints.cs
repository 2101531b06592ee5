using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Chat.History;
using MlxManager.Core.Data;
using MlxManager.Web.Accounts;
using MlxManager.Web.Chat;
using MlxManager.Web.Hosting;

namespace MlxManager.Web.Endpoints;

/// <summary>
/// What the chat page reads besides its Razor handlers (outside <c>/api</c>, so the session cookie works):
/// the SSE stream of a turn and the files attached to the user's messages.
/// </summary>
public static class ChatEndpoints
{
    public static IEndpointRouteBuilder MapChatEndpoints(this IEndpointRouteBuilder app)
    {
        var chat = app.MapGroup("/chat").RequireAuthorization(AccountPolicies.ActiveUser);
        chat.MapGet("/turns/{turnId:guid}/events", TurnEvents).WithName("ChatTurnEvents").LimitSseConnections();
        chat.MapGet("/attachments/{id:long}", Attachment).WithName("ChatAttachment");
        return app;
    }

    // 204 for an unknown or finished-and-forgotten turn: EventSource stops reconnecting on 204.
    private static Results<ServerSentEventsResult<string>, NoContent> TurnEvents(Guid turnId, HttpContext context, ChatTurns turns)
    {
        var userId = AccountClaims.UserId(context.User)!;
        var turn = turns.Find(turnId, userId);
        if (turn is null)
        {
            return TypedResults.NoContent();
        }

        context.Response.Headers.CacheControl = "no-cache, no-store";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(turn.ReadAllAsync(context.Request.Headers["Last-Event-ID"].FirstOrDefault(), context.RequestAborted));
    }

    private static async Task<Results<PhysicalFileHttpResult, NotFound>> Attachment(long id, HttpContext context, AppDbContext db, AttachmentStore files)
    {
        var userId = AccountClaims.UserId(context.User)!;
        var found = await (
            from a in db.ConversationAttachments
            join m in db.ConversationMessages on a.MessageId equals m.Id
            join c in db.Conversations on m.ConversationId equals c.Id
            where a.Id == id && c.UserId == userId
            select new { a.StoredName, a.MediaType, a.FileName, a.Kind, c.Id }).FirstOrDefaultAsync(context.RequestAborted);
        if (found is null)
        {
            return TypedResults.NotFound();
        }

        var path = files.PathOf(found.Id, found.StoredName);
        if (!File.Exists(path))
        {
            return TypedResults.NotFound();
        }

        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        return found.Kind == AttachmentKind.TextFile
            ? TypedResults.PhysicalFile(path, "text/plain; charset=utf-8", found.FileName)
            : TypedResults.PhysicalFile(path, found.MediaType, enableRangeProcessing: true);
    }
}
