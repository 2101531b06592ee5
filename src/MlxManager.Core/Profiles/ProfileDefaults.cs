namespace MlxManager.Core.Profiles;

/// <summary>Starting values for a new profile, given what is known about its model.</summary>
public static class ProfileDefaults
{
    /// <summary>
    /// Thinking models often spend several thousand tokens before the answer starts; below this
    /// the validator warns that answers may be cut off.
    /// </summary>
    public const int ThinkingMaxTokensFloor = 8192;

    /// <summary>What a new profile for a thinking model starts with.</summary>
    public const int ThinkingMaxTokens = 16384;

    /// <summary>
    /// The max-tokens default for a new profile: generous for thinking models, <see cref="Profile.DefaultMaxTokens"/>
    /// otherwise, and never at or above the model's context (the validator refuses that): half of a small context, so
    /// the prompt keeps the other half (a 512-token embedding model gets 256).
    /// </summary>
    public static int MaxTokensFor(bool modelThinks, int? contextWindow = null)
    {
        var wanted = modelThinks ? ThinkingMaxTokens : Profile.DefaultMaxTokens;
        return contextWindow is { } window && window > 1 && wanted >= window ? window / 2 : wanted;
    }
}
