using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MlxManager.Core.Chat;

/// <summary>Registers the engine-facing chat services of MlxManager.Core.</summary>
public static class ChatServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ChatStreamReader"/>, <see cref="ChatMarkdown"/>, <see cref="TimeProvider"/> and
    /// <see cref="ToolLoopOptions"/> bound to the <c>Chat</c> configuration section (<c>Chat:MaxToolRounds</c>).
    /// The web host adds the HTTP client itself:
    /// <c>services.AddHttpClient&lt;EngineChatClient&gt;(c =&gt; c.Timeout = Timeout.InfiniteTimeSpan)</c>.
    /// </summary>
    public static IServiceCollection AddChatCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ChatStreamReader>();
        services.TryAddSingleton<ChatMarkdown>();
        services.AddOptions<ToolLoopOptions>()
            .Bind(configuration.GetSection("MlxManager:Chat"))
            .Validate(o => o.MaxToolRounds is >= 0 and <= 50, "MlxManager:Chat:MaxToolRounds must be between 0 and 50.")
            .ValidateOnStart();
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<ToolLoopOptions>>().Value);
        return services;
    }
}
