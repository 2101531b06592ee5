using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Chat.History;

namespace MlxManager.Core.Data;

public partial class AppDbContext
{
    public DbSet<Conversation> Conversations => Set<Conversation>();

    public DbSet<ConversationMessage> ConversationMessages => Set<ConversationMessage>();

    public DbSet<ConversationAttachment> ConversationAttachments => Set<ConversationAttachment>();

    public DbSet<McpServerRegistration> McpServers => Set<McpServerRegistration>();
}
