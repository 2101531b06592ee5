using Microsoft.Extensions.Caching.Memory;
using MlxManager.Core.Hub;

namespace MlxManager.Web.Models;

/// <summary>
/// Recent Hub search pages, kept a few minutes so that polling the list while detection runs, "load more" and the
/// back button re-render from memory instead of asking the Hub again. Keyed by endpoint, token presence, query and
/// page number.
/// </summary>
public sealed class HubSearchCache(IMemoryCache cache)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    /// <summary>Pages 1..<paramref name="pages"/> of a search, from the cache or the Hub (following each page's Link).</summary>
    public async Task<IReadOnlyList<HubSearchPage>> GetPagesAsync(HubClient hub, HubSearchQuery query, int pages, CancellationToken cancellationToken)
    {
        var connection = await hub.GetConnectionAsync(cancellationToken);
        var baseKey = string.Join('\u001f', connection.Endpoint, connection.Token is null ? "anon" : "token", query.Search ?? string.Empty,
            string.Join(',', query.Authors ?? []), query.Sort, query.Limit, query.Filter ?? string.Empty);
        var result = new List<HubSearchPage>();
        for (var index = 0; index < pages; index++)
        {
            var key = $"hub-search\u001f{baseKey}\u001f{index}";
            if (!cache.TryGetValue(key, out HubSearchPage? page) || page is null)
            {
                if (index > 0 && result[index - 1].Next is null)
                {
                    break;
                }

                page = index == 0
                    ? await hub.SearchAsync(query, cancellationToken)
                    : await hub.SearchNextAsync(result[index - 1].Next!, cancellationToken);
                cache.Set(key, page, Lifetime);
            }

            result.Add(page);
            if (page.Next is null)
            {
                break;
            }
        }

        return result;
    }
}
