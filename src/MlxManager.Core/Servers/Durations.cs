using System.Globalization;

namespace MlxManager.Core.Servers;

/// <summary>How the servers' messages and tiles write a duration.</summary>
public static class Durations
{
    /// <summary>"12 s", "3.5 s", "3 min 5 s", "1 h 2 min"; negative spans read as zero.</summary>
    public static string Describe(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalSeconds < 60 ? $"{span.TotalSeconds.ToString(span.TotalSeconds < 10 ? "0.0" : "0", CultureInfo.InvariantCulture)} s"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes} min {span.Seconds} s"
            : $"{(int)span.TotalHours} h {span.Minutes} min";
    }

    /// <summary>"40 s", "3 min", "1 h 5 min": for times that a tile shows relative to now, where seconds are noise.</summary>
    public static string DescribeRoughly(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalSeconds < 60 ? $"{(int)span.TotalSeconds} s"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes} min"
            : $"{(int)span.TotalHours} h {span.Minutes} min";
    }
}
