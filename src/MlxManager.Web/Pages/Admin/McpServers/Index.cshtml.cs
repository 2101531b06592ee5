using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Chat.History;
using MlxManager.Core.Data;
using MlxManager.Web.Chat;

namespace MlxManager.Web.Pages.Admin.McpServers;

/// <summary>CHAT-04: admins add MCP servers (Streamable HTTP) whose tools the chat offers beside the built-in ones.</summary>
public sealed class IndexModel(AppDbContext db, IDataProtectionProvider protection, TimeProvider time) : PageModel
{
    public IReadOnlyList<McpServerRegistration> Servers { get; private set; } = [];

    [BindProperty]
    public AddServerInput Input { get; set; } = new();

    [TempData]
    public string? Message { get; set; }

    public Dictionary<string, string> Errors { get; } = new(StringComparer.Ordinal);

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostAddAsync(CancellationToken cancellationToken)
    {
        var name = (Input.Name ?? "").Trim();
        var url = (Input.Url ?? "").Trim();
        if (name.Length is 0 or > 100)
        {
            Errors["name"] = "Give the server a name (up to 100 characters).";
        }
        else if (await db.McpServers.AnyAsync(s => s.Name == name, cancellationToken))
        {
            Errors["name"] = "A server with this name exists.";
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo))
        {
            Errors["url"] = "Enter the server's http(s) URL, e.g. https://tools.example.com/mcp (no user name or password in it).";
        }

        if (Errors.Count > 0)
        {
            await LoadAsync(cancellationToken);
            return Page();
        }

        var token = (Input.BearerToken ?? "").Trim();
        db.McpServers.Add(new McpServerRegistration
        {
            Name = name,
            Url = uri!.ToString(),
            ProtectedBearerToken = token.Length == 0 ? null : protection.CreateProtector(McpChatToolSource.TokenPurpose).Protect(token),
            Enabled = true,
            CreatedAtUtc = time.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync(cancellationToken);
        Message = $"Added {name}. Its tools are offered in chats from the next message on.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostToggleAsync(int id, CancellationToken cancellationToken)
    {
        var server = await db.McpServers.FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (server is not null)
        {
            server.Enabled = !server.Enabled;
            await db.SaveChangesAsync(cancellationToken);
            Message = $"{server.Name} is {(server.Enabled ? "enabled" : "disabled")}.";
        }

        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostDeleteAsync(int id, CancellationToken cancellationToken)
    {
        await db.McpServers.Where(s => s.Id == id).ExecuteDeleteAsync(cancellationToken);
        Message = "Removed.";
        return RedirectToPage();
    }

    private async Task LoadAsync(CancellationToken cancellationToken) =>
        Servers = await db.McpServers.AsNoTracking().OrderBy(s => s.Name).ToListAsync(cancellationToken);

    public sealed class AddServerInput
    {
        public string? Name { get; set; }

        public string? Url { get; set; }

        public string? BearerToken { get; set; }
    }
}
