using System.Globalization;

namespace MlxManager.Web.Pages.Models;

/// <summary>Short numbers and times for tiles: "481K", "1.2M", "3 days ago".</summary>
public static class ModelsFormat
{
    public static string Count(long value) => value switch
    {
        >= 1_000_000 => (value / 1e6).ToString(value >= 10_000_000 ? "0" : "0.#", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (value / 1e3).ToString(value >= 10_000 ? "0" : "0.#", CultureInfo.InvariantCulture) + "K",
        _ => value.ToString(CultureInfo.InvariantCulture),
    };

    public static string Ago(DateTimeOffset time, DateTimeOffset now)
    {
        var age = now - time;
        if (age < TimeSpan.FromMinutes(1))
        {
            return "just now";
        }

        static string Unit(double n, string unit) => $"{(int)n} {unit}{((int)n == 1 ? "" : "s")} ago";
        return age.TotalMinutes < 60 ? Unit(age.TotalMinutes, "minute")
            : age.TotalHours < 24 ? Unit(age.TotalHours, "hour")
            : age.TotalDays < 30 ? Unit(age.TotalDays, "day")
            : age.TotalDays < 365 ? Unit(age.TotalDays / 30.44, "month")
            : Unit(age.TotalDays / 365.25, "year");
    }
}
