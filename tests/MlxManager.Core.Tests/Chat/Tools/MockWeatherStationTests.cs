using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using MlxManager.Core.Chat.Tools;

namespace MlxManager.Core.Tests.Chat.Tools;

public class MockWeatherStationTests
{
    private readonly MockWeatherStation _station = new();

    [Fact]
    public void Report_SamePlace_SameWeather_WhateverTheSpellingOfSpaceAndCase()
    {
        var a = _station.Report("San Francisco");
        var b = _station.Report("  san   FRANCISCO ");

        (a with { Location = "" }).ShouldBe(b with { Location = "" });
    }

    [Fact]
    public void Report_IsPinned_SoItIsTheSameInEveryProcess()
    {
        // string.GetHashCode() is randomised per process and would fail this; these values were produced by an
        // earlier process and must never change.
        var paris = _station.Report("Paris");

        paris.ShouldBe(new WeatherReport("Paris", PinnedParis.Temperature, "celsius", PinnedParis.Condition, PinnedParis.Humidity, PinnedParis.Wind, paris.Note));
    }

    [Fact]
    public void Report_DerivesFromTheSha256OfTheNormalisedName_AsAnOutsideToolComputesIt()
    {
        // An independent process (coreutils sha256sum) hashes the same bytes: the weather depends on nothing else.
        var start = new ProcessStartInfo("sha256sum") { RedirectStandardInput = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        process.StandardInput.Write("paris");
        process.StandardInput.Close();
        var hex = process.StandardOutput.ReadToEnd().Split(' ')[0];
        process.WaitForExit();

        hex.ShouldBe(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("paris"))));
        var hash = Convert.FromHexString(hex);
        _station.Report("Paris").Temperature.ShouldBe(Math.Round(-10 + (BitConverter.ToUInt16(hash, 0) / 65535.0 * 45), 1));
    }

    [Fact]
    public void Report_DifferentPlaces_GetDifferentWeather()
    {
        var places = new[] { "Paris", "Tokyo", "Lagos", "Lima", "Oslo", "Sydney", "Cairo", "Denver" };

        places.Select(p => _station.Report(p).Temperature).Distinct().Count().ShouldBeGreaterThan(5);
    }

    [Fact]
    public void Report_Fahrenheit_IsTheSameWeatherConverted()
    {
        var celsius = _station.Report("Tokyo", "celsius");
        var fahrenheit = _station.Report("Tokyo", "Fahrenheit");

        fahrenheit.Unit.ShouldBe("fahrenheit");
        fahrenheit.Temperature.ShouldBe(Math.Round(celsius.Temperature * 9 / 5 + 32, 1), 0.11);
        fahrenheit.Condition.ShouldBe(celsius.Condition);
    }

    [Fact]
    public void Report_ValuesStayPlausible()
    {
        foreach (var place in Enumerable.Range(0, 200).Select(i => $"Town {i}"))
        {
            var report = _station.Report(place);
            report.Temperature.ShouldBeInRange(-10, 35);
            report.HumidityPercent.ShouldBeInRange(20, 95);
            report.WindKmh.ShouldBeInRange(0, 40);
            if (report.Temperature > 2)
            {
                report.Condition.ShouldNotBe("snow");
            }
        }
    }

    [Theory]
    [InlineData("kelvin")]
    [InlineData("rankine")]
    public void Report_UnknownUnit_IsRefusedWithTheAllowedValues(string unit)
    {
        Should.Throw<ArgumentException>(() => _station.Report("Paris", unit)).Message.ShouldContain("\"celsius\" or \"fahrenheit\"");
    }

    [Fact]
    public void Report_EmptyOrOverlongLocation_IsRefused()
    {
        Should.Throw<ArgumentException>(() => _station.Report("  ")).Message.ShouldContain("location is required");
        Should.Throw<ArgumentException>(() => _station.Report(new string('x', 201))).Message.ShouldContain("too long");
    }

    // Pinned from the first run of this implementation.
    private static class PinnedParis
    {
        public const double Temperature = 9.7;
        public const string Condition = "cloudy";
        public const int Humidity = 20;
        public const double Wind = 37.4;
    }
}
