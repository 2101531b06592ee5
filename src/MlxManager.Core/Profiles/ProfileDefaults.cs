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

    /// <summary>The max-tokens default for a new profile: generous for thinking models, <see cref="Profile.DefaultMaxTokens"/> otherwise.</summary>
    public static int MaxTokensFor(bool modelThinks) => modelThinks ? ThinkingMaxTokens : Profile.DefaultMaxTokens;
}
