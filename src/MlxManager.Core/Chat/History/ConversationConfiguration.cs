using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using MlxManager.Core.Accounts;

namespace MlxManager.Core.Chat.History;

/// <summary>Tables <c>Conversations</c>, <c>ConversationMessages</c>, <c>ConversationAttachments</c>.</summary>
public sealed class ConversationConfiguration :
    IEntityTypeConfiguration<Conversation>,
    IEntityTypeConfiguration<ConversationMessage>,
    IEntityTypeConfiguration<ConversationAttachment>,
    IEntityTypeConfiguration<McpServerRegistration>
{
    public void Configure(EntityTypeBuilder<Conversation> builder)
    {
        builder.ToTable("Conversations");
        builder.Property(c => c.UserId).IsRequired().HasMaxLength(450);
        builder.Property(c => c.Title).IsRequired().HasMaxLength(200);
        builder.Property(c => c.ProfileName).HasMaxLength(200);
        builder.HasIndex(c => new { c.UserId, c.UpdatedAtUtc });
        // Deleting an account deletes its conversations.
        builder.HasOne<AppUser>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(c => c.Messages).WithOne().HasForeignKey(m => m.ConversationId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ConversationMessage> builder)
    {
        builder.ToTable("ConversationMessages");
        builder.HasIndex(m => new { m.ConversationId, m.Sequence }).IsUnique();
        builder.Property(m => m.Role).HasConversion<string>().HasMaxLength(16);
        builder.Property(m => m.ToolCallId).HasMaxLength(200);
        builder.Property(m => m.ToolName).HasMaxLength(200);
        builder.Property(m => m.FinishReason).HasMaxLength(32);
        builder.HasMany(m => m.Attachments).WithOne().HasForeignKey(a => a.MessageId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ConversationAttachment> builder)
    {
        builder.ToTable("ConversationAttachments");
        builder.Property(a => a.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(a => a.FileName).IsRequired().HasMaxLength(255);
        builder.Property(a => a.MediaType).IsRequired().HasMaxLength(100);
        builder.Property(a => a.StoredName).IsRequired().HasMaxLength(100);
    }

    public void Configure(EntityTypeBuilder<McpServerRegistration> builder)
    {
        builder.ToTable("McpServers");
        builder.Property(s => s.Name).IsRequired().HasMaxLength(100);
        builder.Property(s => s.Url).IsRequired().HasMaxLength(2000);
        builder.HasIndex(s => s.Name).IsUnique();
    }
}
