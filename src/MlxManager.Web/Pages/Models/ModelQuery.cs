using System.Globalization;
using Microsoft.AspNetCore.Http.Extensions;
using MlxManager.Core.Hub;

namespace MlxManager.Web.Pages.Models;

/// <summary>
/// Everything the Models page's URL says: tab, search text, sort and filters. Parsed leniently from the query string
/// (a bad value is ignored, not an error) and written back with only non-default values, so URLs stay short and
/// bookmarkable.
/// </summary>
public sealed record ModelQuery
{
    public const string HubTab = "hub";
    public const string LocalTab = "local";
    public const int DefaultContext = 32768;

    public static IReadOnlyList<int> ContextChoices { get; } = [4096, 8192, 16384, 32768, 65536, 131072, 262144];

    public static IReadOnlyList<int> BitChoices { get; } = [2, 3, 4, 5, 6, 8, 16];

    public static IReadOnlyList<int> SizeChoicesGb { get; } = [2, 4, 8, 16, 32, 64, 128];

    public string Tab { get; init; } = HubTab;

    public string? Search { get; init; }

    public HubSort Sort { get; init; } = HubSort.Downloads;

    /// <summary>Architecture family text, matched case-insensitively inside the detected family ("qwen" finds Qwen3 and Qwen2.5-VL).</summary>
    public string? Architecture { get; init; }

    /// <summary>Bits per weight; 16 = unquantized (bf16/fp16).</summary>
    public int? Bits { get; init; }

    public bool Vision { get; init; }

    public bool Tools { get; init; }

    public bool Thinking { get; init; }

    public int? MinContext { get; init; }

    public int? MaxSizeGb { get; init; }

    public bool FitsInMemory { get; init; }

    /// <summary>Only models an engine installed on this machine can load ("Runs here").</summary>
    public bool RunsHere { get; init; }

    /// <summary>Context the memory estimate is made for.</summary>
    public int Context { get; init; } = DefaultContext;

    /// <summary>Hub pages shown ("load more" adds one).</summary>
    public int Pages { get; init; } = 1;

    public bool IsLocal => Tab == LocalTab;

    /// <summary>True when a filter needs detected characteristics (so undetected results cannot be judged yet).</summary>
    public bool FiltersOnCharacteristics =>
        !string.IsNullOrWhiteSpace(Architecture) || Bits is not null || Vision || Tools || Thinking || MinContext is not null || FitsInMemory || RunsHere;

    public bool HasFilters => FiltersOnCharacteristics || MaxSizeGb is not null;

    public static ModelQuery From(IQueryCollection query)
    {
        string? Text(string key) => query[key].ToString() is { Length: > 0 } value ? value.Trim() : null;
        int? Number(string key) => int.TryParse(Text(key), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;
        bool Flag(string key) => Text(key) is "1" or "true" or "on";

        var sort = Text("sort") switch
        {
            "likes" => HubSort.Likes,
            "updated" => HubSort.RecentlyUpdated,
            "trending" => HubSort.Trending,
            _ => HubSort.Downloads,
        };
        return new ModelQuery
        {
            Tab = Text("tab") == LocalTab ? LocalTab : HubTab,
            Search = Limit(Text("q"), 200),
            Sort = sort,
            Architecture = Limit(Text("arch"), 60),
            Bits = Number("bits") is { } bits && BitChoices.Contains(bits) ? bits : null,
            Vision = Flag("vision"),
            Tools = Flag("tools"),
            Thinking = Flag("thinking"),
            MinContext = Number("minctx"),
            MaxSizeGb = Number("maxsize"),
            FitsInMemory = Flag("fits"),
            RunsHere = Flag("runs"),
            Context = Number("ctx") is { } ctx && ctx <= 10_000_000 ? ctx : DefaultContext,
            Pages = Math.Clamp(Number("pages") ?? 1, 1, 20),
        };
    }

    /// <summary>The query string with non-default values only ("?tab=local&amp;q=qwen"), or "" when everything is default.</summary>
    public string ToQueryString(int? pages = null, bool poll = false)
    {
        var builder = new QueryBuilder();
        if (IsLocal)
        {
            builder.Add("tab", LocalTab);
        }

        Add(builder, "q", Search);
        if (!IsLocal && Sort != HubSort.Downloads)
        {
            builder.Add("sort", SortValue(Sort));
        }

        Add(builder, "arch", Architecture);
        Add(builder, "bits", Bits);
        AddFlag(builder, "vision", Vision);
        AddFlag(builder, "tools", Tools);
        AddFlag(builder, "thinking", Thinking);
        Add(builder, "minctx", MinContext);
        Add(builder, "maxsize", MaxSizeGb);
        AddFlag(builder, "fits", FitsInMemory);
        AddFlag(builder, "runs", RunsHere);
        if (Context != DefaultContext)
        {
            builder.Add("ctx", Context.ToString(CultureInfo.InvariantCulture));
        }

        var shownPages = pages ?? Pages;
        if (shownPages > 1)
        {
            builder.Add("pages", shownPages.ToString(CultureInfo.InvariantCulture));
        }

        if (poll)
        {
            builder.Add("poll", "1");
        }

        return builder.ToQueryString().Value ?? string.Empty;
    }

    /// <summary>The page URL for this query.</summary>
    public string Url(int? pages = null, bool poll = false) => "/models" + ToQueryString(pages, poll);

    /// <summary>The same query on the other tab.</summary>
    public ModelQuery WithTab(string tab) => this with { Tab = tab, Pages = 1 };

    public static string SortValue(HubSort sort) => sort switch
    {
        HubSort.Likes => "likes",
        HubSort.RecentlyUpdated => "updated",
        HubSort.Trending => "trending",
        _ => "downloads",
    };

    private static string? Limit(string? text, int length) => text is null ? null : text.Length <= length ? text : text[..length];

    private static void Add(QueryBuilder builder, string key, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            builder.Add(key, value);
        }
    }

    private static void Add(QueryBuilder builder, string key, int? value)
    {
        if (value is { } number)
        {
            builder.Add(key, number.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void AddFlag(QueryBuilder builder, string key, bool value)
    {
        if (value)
        {
            builder.Add(key, "1");
        }
    }
}
