using System.Globalization;
using MlxManager.Core.Usage.Reports;

namespace MlxManager.Web.Pages.Usage;

/// <summary>One coloured part of a day's bar: a series' tokens that day.</summary>
public sealed record ChartSegment(int Series, double X, double Y, double Width, double Height, string Title);

/// <summary>A value line of the y axis.</summary>
public sealed record ChartTick(double Y, string Label);

/// <summary>A day's label under the x axis.</summary>
public sealed record ChartDayLabel(double X, string Label);

/// <summary>
/// Tokens per day as a stacked bar chart, laid out on the server and drawn as inline SVG by <c>_TokensChart</c>: no chart
/// library, no script (the CSP allows none inline), readable without JavaScript, and coloured with CSS classes that
/// follow the site's light and dark palettes. Each bar part has a <c>&lt;title&gt;</c>; the tables below the chart carry
/// the same figures for screen readers. Series are the <see cref="MaxSeries"/> largest groups; the rest are "Other".
/// </summary>
public sealed class TokensChart
{
    public const int MaxSeries = 6;
    public const double Width = 720;
    public const double Height = 240;
    public const double Left = 56;
    public const double Right = 24;
    public const double Top = 8;
    public const double Bottom = 28;

    private TokensChart(string title, IReadOnlyList<string> series, IReadOnlyList<ChartSegment> segments, IReadOnlyList<ChartTick> ticks, IReadOnlyList<ChartDayLabel> days, long total)
    {
        Title = title;
        Series = series;
        Segments = segments;
        Ticks = ticks;
        DayLabels = days;
        TotalTokens = total;
    }

    public string Title { get; }

    /// <summary>Legend entries; the index is the CSS class <c>chart-series-{index}</c>.</summary>
    public IReadOnlyList<string> Series { get; }

    public IReadOnlyList<ChartSegment> Segments { get; }

    public IReadOnlyList<ChartTick> Ticks { get; }

    public IReadOnlyList<ChartDayLabel> DayLabels { get; }

    public long TotalTokens { get; }

    public static double PlotBottom => Height - Bottom;

    /// <summary>Lays out <paramref name="report"/>'s tokens per day, stacked by <paramref name="groupOf"/> (model, user or key).</summary>
    public static TokensChart Build(UsageReport report, string title, Func<UsageRow, string> groupOf)
    {
        var ranked = report.Rows.GroupBy(groupOf)
            .Select(g => (Name: g.Key, Tokens: g.Sum(r => r.Tokens)))
            .OrderByDescending(g => g.Tokens).ThenBy(g => g.Name, StringComparer.Ordinal)
            .ToList();
        var shown = ranked.Take(ranked.Count > MaxSeries ? MaxSeries - 1 : MaxSeries).Select(g => g.Name).ToList();
        var series = ranked.Count > MaxSeries ? [.. shown, "Other"] : shown;
        int SeriesOf(UsageRow row) => shown.IndexOf(groupOf(row)) is var i and >= 0 ? i : shown.Count;

        var days = report.Days.ToList();
        var perDay = days.ToDictionary(day => day, day => new long[series.Count]);
        foreach (var row in report.Rows)
        {
            if (perDay.TryGetValue(row.Day, out var sums))
            {
                sums[SeriesOf(row)] += row.Tokens;
            }
        }

        var max = Math.Max(1, perDay.Values.Select(s => s.Sum()).DefaultIfEmpty(0).Max());
        var (step, top) = Scale(max);
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var slot = plotWidth / days.Count;
        var barWidth = Math.Max(1, slot * 0.7);
        var segments = new List<ChartSegment>();
        var labels = new List<ChartDayLabel>();
        var labelEvery = days.Count <= 7 ? 1 : days.Count <= 30 ? 5 : 15;
        for (var i = 0; i < days.Count; i++)
        {
            var x = Left + i * slot + (slot - barWidth) / 2;
            var y = Height - Bottom;
            var sums = perDay[days[i]];
            for (var s = 0; s < sums.Length; s++)
            {
                if (sums[s] == 0)
                {
                    continue;
                }

                var h = sums[s] / (double)top * plotHeight;
                y -= h;
                segments.Add(new ChartSegment(s, Round(x), Round(y), Round(barWidth), Round(h),
                    $"{days[i]:yyyy-MM-dd} · {series[s]}: {sums[s].ToString("N0", CultureInfo.InvariantCulture)} tokens"));
            }

            if ((days.Count - 1 - i) % labelEvery == 0)
            {
                labels.Add(new ChartDayLabel(Round(Left + i * slot + slot / 2), days[i].ToString("MMM d", CultureInfo.InvariantCulture)));
            }
        }

        var ticks = Enumerable.Range(0, (int)(top / step) + 1)
            .Select(k => new ChartTick(Round(Height - Bottom - k * step / (double)top * plotHeight), Compact(k * step)))
            .ToList();
        return new TokensChart(title, series, segments, ticks, labels, report.Rows.Sum(r => r.Tokens));
    }

    /// <summary>A "nice" tick step (1, 2 or 5 × 10ⁿ) giving at most five lines, and the axis top it reaches.</summary>
    private static (long Step, long Top) Scale(long max)
    {
        var raw = max / 4.0;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = (long)Math.Max(1, new[] { 1, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw));
        return (step, (long)Math.Ceiling(max / (double)step) * step);
    }

    /// <summary>1 200 → "1.2k", 3 400 000 → "3.4M".</summary>
    public static string Compact(long value) => value switch
    {
        >= 1_000_000_000 => (value / 1e9).ToString("0.#", CultureInfo.InvariantCulture) + "G",
        >= 1_000_000 => (value / 1e6).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (value / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString(CultureInfo.InvariantCulture),
    };

    private static double Round(double value) => Math.Round(value, 1);
}
