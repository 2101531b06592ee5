using MlxManager.Core.Engines;

namespace MlxManager.Core.Tests.Engines;

public class ShellWordsTests
{
    [Theory]
    [InlineData("", new string[0])]
    [InlineData("   \n\t ", new string[0])]
    [InlineData("--kv-bits 4", new[] { "--kv-bits", "4" })]
    [InlineData("  --a   b\t--c\nd  ", new[] { "--a", "b", "--c", "d" })]
    [InlineData("--chat-template-args '{\"reasoning_effort\": \"high\"}'", new[] { "--chat-template-args", "{\"reasoning_effort\": \"high\"}" })]
    [InlineData("--name \"two words\"", new[] { "--name", "two words" })]
    [InlineData("--x \"say \\\"hi\\\" \\\\ now\"", new[] { "--x", "say \"hi\" \\ now" })]
    [InlineData("--x \"keep \\n as is\"", new[] { "--x", "keep \\n as is" })]
    [InlineData("a\\ b", new[] { "a b" })]
    [InlineData("a\\\nb", new[] { "ab" })]
    [InlineData("pre'quoted part'post", new[] { "prequoted partpost" })]
    [InlineData("'' \"\"", new[] { "", "" })]
    [InlineData("--flag # a comment\n--next", new[] { "--flag", "--next" })]
    [InlineData("a#b", new[] { "a#b" })]
    [InlineData("'it'\\''s'", new[] { "it's" })]
    [InlineData("'a|b' \"c;d\" e\\&f", new[] { "a|b", "c;d", "e&f" })]
    public void Split_ReadsWordsLikeAPosixShell(string text, string[] expected)
    {
        ShellWords.Split(text).ShouldBe(expected);
    }

    [Fact]
    public void Split_OfNull_IsEmpty()
    {
        ShellWords.Split(null).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("--name 'unclosed", "Unbalanced single quote at position 8")]
    [InlineData("--name \"unclosed", "Unbalanced double quote at position 8")]
    [InlineData("--name \"escaped \\\" quote", "Unbalanced double quote")]
    [InlineData("--trailing \\", "trailing backslash")]
    public void Parse_WhenQuotesAreUnbalanced_FailsWithClearMessage(string text, string expected)
    {
        var result = ShellWords.Parse(text);

        result.IsValid.ShouldBeFalse();
        result.Error.ShouldNotBeNull().ShouldContain(expected);
        result.Words.ShouldBeEmpty();
        Should.Throw<FormatException>(() => ShellWords.Split(text)).Message.ShouldBe(result.Error);
    }

    [Theory]
    [InlineData("--a | tee log", '|')]
    [InlineData("--a; rm -rf x", ';')]
    [InlineData("--a > out", '>')]
    [InlineData("--a && b", '&')]
    [InlineData("--a $(whoami)", '(')]
    [InlineData("--a `whoami`", '`')]
    public void Parse_WhenAShellOperatorIsUnquoted_ExplainsThatNoShellIsInvolved(string text, char op)
    {
        var result = ShellWords.Parse(text);

        result.IsValid.ShouldBeFalse();
        result.Error.ShouldNotBeNull().ShouldContain($"'{op}'");
        result.Error.ShouldContain("without a shell");
    }

    [Fact]
    public void Parse_WhenADollarAppears_KeepsItLiterallyAndWarns()
    {
        var result = ShellWords.Parse("--path $HOME/models \"$USER\"");

        result.Words.ShouldBe(["--path", "$HOME/models", "$USER"]);
        result.Warnings.ShouldHaveSingleItem().ShouldContain("not expanded");
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("--model=mlx-community/Qwen3-4B-4bit", "--model=mlx-community/Qwen3-4B-4bit")]
    [InlineData("", "''")]
    [InlineData("two words", "'two words'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("{\"enable_thinking\":false}", "'{\"enable_thinking\":false}'")]
    [InlineData("$HOME", "'$HOME'")]
    [InlineData("~/x", "'~/x'")]
    [InlineData("#x", "'#x'")]
    public void Quote_ProducesAWordAShellReadsBackUnchanged(string word, string expected)
    {
        ShellWords.Quote(word).ShouldBe(expected);
        ShellWords.Split(expected).ShouldBe([word]);
    }

    [Fact]
    public void Join_ThenSplit_RoundTrips()
    {
        string[] words = ["--a", "b c", "it's", "", "x\"y", "tab\there", "new\nline", "back\\slash"];

        ShellWords.Split(ShellWords.Join(words)).ShouldBe(words);
    }
}
