using MlxManager.Core.Library;

namespace MlxManager.Core.Hub;

/// <summary>Where the Hub is and how to reach it, resolved for each call so settings apply without a restart.</summary>
/// <param name="Endpoint">Base URL without a trailing slash (<c>HF_ENDPOINT</c>, default https://huggingface.co).</param>
/// <param name="Token">Bearer token sent to the Hub host only, never to the CDN; null for anonymous calls.</param>
/// <param name="TokenSource">Where the token came from, for the settings page ("HF_TOKEN", "settings", "token file …", "none").</param>
/// <param name="Offline"><c>HF_HUB_OFFLINE</c>: no network call is made at all.</param>
public sealed record HubConnection(Uri Endpoint, string? Token, string TokenSource, bool Offline)
{
    /// <summary>The model page a user opens to accept a gated model's licence.</summary>
    public string ModelPageUrl(string repoId) => $"{Endpoint.ToString().TrimEnd('/')}/{repoId}";

    /// <summary>True when <paramref name="uri"/> is on the Hub host itself (scheme, host and port), so it may carry the token.</summary>
    public bool IsHubHost(Uri uri) =>
        uri.IsAbsoluteUri && Uri.Compare(uri, Endpoint, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
}

/// <summary>Gives the current <see cref="HubConnection"/>.</summary>
public interface IHubConnectionSource
{
    ValueTask<HubConnection> GetAsync(CancellationToken cancellationToken = default);
}

/// <summary>A token an administrator stored in the app (the Settings page); null when none is stored.</summary>
public interface IStoredHubToken
{
    ValueTask<string?> GetAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// The connection from <see cref="HfEnvironment"/> (HF_ENDPOINT, HF_HUB_OFFLINE, HF_TOKEN, the token file) and the
/// token stored on the Settings page. An administrator's stored token wins over the environment's, because it was
/// set on purpose in this app; then <c>HF_TOKEN</c>, then <c>$HF_HOME/token</c>, as huggingface_hub reads them.
/// </summary>
public sealed class HubConnectionSource(HfEnvironment environment, IStoredHubToken? storedToken = null) : IHubConnectionSource
{
    public async ValueTask<HubConnection> GetAsync(CancellationToken cancellationToken = default)
    {
        var endpoint = new Uri(environment.Endpoint.TrimEnd('/') + "/", UriKind.Absolute);
        var stored = storedToken is null ? null : await storedToken.GetAsync(cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrWhiteSpace(stored))
        {
            return new HubConnection(endpoint, stored.Trim(), "stored on the Settings page", environment.Offline);
        }

        if (environment.EnvironmentToken is { } fromEnvironment)
        {
            return new HubConnection(endpoint, fromEnvironment, "HF_TOKEN environment variable", environment.Offline);
        }

        string? fromFile;
        try
        {
            fromFile = environment.ReadToken();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return new HubConnection(endpoint, null, $"none (token file {environment.TokenPath} unreadable: {exception.Message})", environment.Offline);
        }

        return fromFile is null
            ? new HubConnection(endpoint, null, "none", environment.Offline)
            : new HubConnection(endpoint, fromFile, $"token file {environment.TokenPath}", environment.Offline);
    }
}
