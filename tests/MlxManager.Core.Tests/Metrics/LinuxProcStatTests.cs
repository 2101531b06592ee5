using System.Text;
using MlxManager.Core.Metrics;

namespace MlxManager.Core.Tests.Metrics;

public class LinuxProcStatTests
{
    [Fact]
    public void TryParse_ReadsTheFieldsTheSamplerNeeds()
    {
        const string line = "4242 (python3.12) S 4200 4242 4200 0 -1 4194560 150000 0 12 0 2573 311 0 0 20 0 24 0 987654 9876543210 51200 18446744073709551615 1 1 0 0 0 0 0 16781312 2 0 0 0 17 3 0 0 0 0 0\n";

        LinuxProcStat.TryParse(Encoding.ASCII.GetBytes(line), out var stat).ShouldBeTrue();

        stat.ShouldBe(new LinuxProcStat(4242, 'S', 4200, 2573, 311, 987654, 51200));
    }

    [Fact]
    public void TryParse_WhenTheCommandNameHoldsSpacesAndParentheses_CountsFieldsFromTheLastParenthesis()
    {
        const string line = "77 (my (odd) ) name) R 1 77 77 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1000 0 300 0";

        LinuxProcStat.TryParse(Encoding.ASCII.GetBytes(line), out var stat).ShouldBeTrue();

        stat.ShouldBe(new LinuxProcStat(77, 'R', 1, 5, 6, 1000, 300));
    }

    [Fact]
    public void TryParse_RecognisesZombies()
    {
        LinuxProcStat.TryParse("9 (x) Z 1 9 9 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 50 0 0 0"u8, out var stat).ShouldBeTrue();

        stat.IsGone.ShouldBeTrue();
    }

    [Theory]
    [InlineData("")]
    [InlineData("12 (cut short) S 1 2 3")]
    [InlineData("no pid (x) S 1 0 0 0 0 0 0 0 0 0 1 1 0 0 0 0 0 0 1 0 1 0")]
    [InlineData("12 (x) S notanumber 0 0 0 0 0 0 0 0 0 1 1 0 0 0 0 0 0 1 0 1 0")]
    public void TryParse_RejectsMalformedLines(string line)
    {
        LinuxProcStat.TryParse(Encoding.ASCII.GetBytes(line), out _).ShouldBeFalse();
    }
}
