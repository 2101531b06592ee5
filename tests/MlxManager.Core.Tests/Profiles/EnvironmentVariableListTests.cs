using MlxManager.Core.Profiles;

namespace MlxManager.Core.Tests.Profiles;

public class EnvironmentVariableListTests
{
    [Fact]
    public void Parse_ReadsKeyValueLinesSkippingBlanksAndComments()
    {
        var result = EnvironmentVariableList.Parse("# offline\nHF_HUB_OFFLINE=1\r\n\n  export MLX_X = a=b \nQUOTED=\"two words\"\nSINGLE='x'\nEMPTY=");

        result.IsValid.ShouldBeTrue();
        result.Variables.ShouldBe([
            new("HF_HUB_OFFLINE", "1"),
            new("MLX_X", "a=b"),
            new("QUOTED", "two words"),
            new("SINGLE", "x"),
            new("EMPTY", ""),
        ]);
    }

    [Fact]
    public void Parse_KeepsDollarSignsLiteral()
    {
        EnvironmentVariableList.Parse("P=$HOME/x").Variables.ShouldHaveSingleItem().Value.ShouldBe("$HOME/x");
    }

    [Theory]
    [InlineData("NOVALUE", "Line 1: \"NOVALUE\" is not of the form KEY=VALUE.")]
    [InlineData("=1", "Line 1: the variable name is missing before '='.")]
    [InlineData("1ABC=1", "Line 1: \"1ABC\" is not a valid variable name")]
    [InlineData("MY-VAR=1", "Line 1: \"MY-VAR\" is not a valid variable name")]
    [InlineData("A=1\n\nA=2", "Line 3: A is set more than once.")]
    public void Parse_WhenALineIsWrong_SaysWhichAndWhy(string text, string expected)
    {
        var result = EnvironmentVariableList.Parse(text);

        result.IsValid.ShouldBeFalse();
        result.Errors.ShouldHaveSingleItem().ShouldStartWith(expected);
    }

    [Theory]
    [InlineData("PATH", true)]
    [InlineData("_X1", true)]
    [InlineData("x", true)]
    [InlineData("", false)]
    [InlineData("9A", false)]
    [InlineData("A.B", false)]
    public void IsValidName_AcceptsPortableNames(string name, bool expected)
    {
        EnvironmentVariableList.IsValidName(name).ShouldBe(expected);
    }
}
