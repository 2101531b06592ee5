namespace MlxManager.Core.Usage;

/// <summary>
/// Token counts for when an engine reports none: about four characters a token for text (the usual figure for English
/// with BPE tokenizers; no tokenizer of the model is at hand), or one token per streamed piece, since engines stream
/// one token per chunk. Rows counted this way are marked <see cref="UsageRecord.TokensEstimated"/>.
/// </summary>
public static class TokenEstimate
{
    public const int CharactersPerToken = 4;

    public static int OfCharacters(long characters) =>
        characters <= 0 ? 0 : (int)Math.Min(int.MaxValue, (characters + CharactersPerToken - 1) / CharactersPerToken);
}
