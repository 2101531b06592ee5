namespace MlxManager.Core.Discovery;

/// <summary>Turns characteristics into tile badges, each with its provenance as tooltip.</summary>
public static class BadgeBuilder
{
    public static IReadOnlyList<Badge> Build(ModelCharacteristics model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var badges = new List<Badge>();
        if (model.Architecture is { } architecture)
        {
            badges.Add(new Badge(BadgeKind.Architecture, architecture.Value, architecture.Source));
        }

        if (model.Parameters is { } parameters)
        {
            var label = (parameters.IsEstimate ? "≈" : string.Empty) + ModelFormat.Parameters(parameters.Value);
            badges.Add(new Badge(BadgeKind.Parameters, label, parameters.Source));
        }

        if (model.Quantization is { } quantization)
        {
            badges.Add(new Badge(BadgeKind.Quantization, quantization.Label, quantization.Source));
        }

        if (model.Context is { } context)
        {
            var source = context.Source
                + (context.SlidingWindow is { } sliding ? $"; sliding window {ModelFormat.Tokens(sliding.Tokens)} on {sliding.SlidingLayers} of {sliding.Layers} layers" : string.Empty)
                + (context.RopeScaling is { } rope ? $"; rope scaling {rope.Value}" : string.Empty);
            badges.Add(new Badge(BadgeKind.Context, ModelFormat.Tokens(context.Tokens), source));
        }

        if (model.Vision is { Value: true } vision)
        {
            badges.Add(new Badge(BadgeKind.Vision, "vision", vision.Source));
        }

        if (model.Audio is { Value: true } audio)
        {
            badges.Add(new Badge(BadgeKind.Audio, "audio", audio.Source));
        }

        if (model.Tools is { Supported: true } tools)
        {
            badges.Add(new Badge(BadgeKind.Tools, CapabilityLabel("tools", tools), tools.Source));
        }

        if (model.Thinking is { Supported: true } thinking)
        {
            badges.Add(new Badge(BadgeKind.Thinking, CapabilityLabel("thinking", thinking), thinking.Source));
        }

        if (model.WeightBytes is { } size)
        {
            badges.Add(new Badge(BadgeKind.Size, ModelFormat.Bytes(size.Value), size.Source));
        }

        return badges;
    }

    private static string CapabilityLabel(string name, Capability capability) => capability.Evidence switch
    {
        CapabilityEvidence.HubTagOnly => $"{name} (hub tag only)",
        CapabilityEvidence.TokensAndName => $"{name} (likely)",
        _ => name,
    };
}
