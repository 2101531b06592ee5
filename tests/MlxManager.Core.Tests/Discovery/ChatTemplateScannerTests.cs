using MlxManager.Core.Discovery;

namespace MlxManager.Core.Tests.Discovery;

public sealed class ChatTemplateScannerTests
{
    [Theory]
    [InlineData("{%- if tools %}{{ tools | tojson }}{% endif %}")]
    [InlineData("{% for tool in tools %}{{ tool.name }}{% endfor %}")]
    [InlineData("{{- render(tools) }}")]
    [InlineData("{% if tools is not none and tools|length > 0 %}x{% endif %}")]
    public void Scan_TemplateReadingTools_RendersTools(string template)
    {
        ChatTemplateScanner.Scan(template).RendersTools.ShouldBeTrue();
    }

    [Theory]
    [InlineData("{# This template supports tools: pass tools=... #}{{ messages[0].content }}")]
    [InlineData("You can use tools if you like.\n{{ messages[0].content }}")]
    [InlineData("{{ 'Use the tools you have' }}{{ \"tools\" }}")]
    [InlineData("{% set tools = none %}{{ messages[0].content }}")]
    [InlineData("{{ message.tools }}{{ builtin_tools }}{{ custom_tools }}")]
    [InlineData("{% macro render(tools) %}{{ tools }}{% endmacro %}{{ messages[0].content }}")]
    public void Scan_ToolsOnlyInCommentProseStringsOrDeclarations_DoesNotRenderTools(string template)
    {
        ChatTemplateScanner.Scan(template).RendersTools.ShouldBeFalse();
    }

    [Fact]
    public void Scan_TagEndInsideStringLiteral_DoesNotEndTheTag()
    {
        var facts = ChatTemplateScanner.Scan("{{ '%} }}' }}{% if tools %}x{% endif %}");

        facts.RendersTools.ShouldBeTrue();
        facts.ToolsEvidence.ShouldBe("if tools");
    }

    [Theory]
    [InlineData("{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>{% endif %}", "enable_thinking")]
    [InlineData("{{ '<|im_start|>assistant\\n<think>\\n' }}", "<think>")]
    [InlineData("{% if '</think>' in content %}{{ content.split('</think>')[-1] }}{% endif %}", "</think>")]
    [InlineData("{{ '<|start|>assistant<|channel|>analysis<|message|>' + message.thinking }}", "<|channel|>analysis")]
    [InlineData("{{- '<|channel>thought\\n' + text }}", "<|channel>thought")]
    [InlineData("<|assistant|><think>{{ messages[-1].content }}", "<think>")]
    [InlineData("{% if message.reasoning_content %}{{ message.reasoning_content }}{% endif %}", "reasoning_content")]
    public void Scan_ThinkingEvidence_IsFound(string template, string evidence)
    {
        var facts = ChatTemplateScanner.Scan(template);

        facts.Thinking.ShouldBeTrue();
        facts.ThinkingEvidence!.ShouldContain(evidence);
    }

    [Theory]
    [InlineData("{# we do not support <think> yet #}{{ messages[0].content }}")]
    [InlineData("Think step by step. {{ messages[0].content }}")]
    [InlineData("{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}")]
    public void Scan_NoThinking_WhenOnlyCommentsOrProse(string template)
    {
        ChatTemplateScanner.Scan(template).Thinking.ShouldBeFalse();
    }

    [Fact]
    public void Scan_EnableThinkingPreferredOverOtherEvidence()
    {
        var facts = ChatTemplateScanner.Scan("{{ '<think>' }}{% if message.reasoning_content %}{% endif %}{% if enable_thinking %}{% endif %}");

        facts.ThinkingEvidence!.ShouldStartWith("reads enable_thinking");
    }

    [Fact]
    public void Scan_UnterminatedTag_DoesNotThrow()
    {
        var facts = ChatTemplateScanner.Scan("{% if tools ");

        facts.RendersTools.ShouldBeTrue();
    }

    [Fact]
    public void Scan_DeepSeekR1Template_OpensThinkingInThePrompt() =>
        ChatTemplateScanner.Scan(MlxManager.ModelFixtures.ChatTemplates.DeepSeekR1).OpensThinkingInPrompt.ShouldBeTrue();

    [Fact]
    public void Scan_Qwen3Template_DoesNotOpenThinking_ItOnlyEmitsAnEmptyBlockWhenOff()
    {
        var template = """
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\n' }}
                {%- if enable_thinking is defined and enable_thinking is false %}
                    {{- '<think>\n\n</think>\n\n' }}
                {%- endif %}
            {%- endif %}
            """;

        ChatTemplateScanner.Scan(template).OpensThinkingInPrompt.ShouldBeFalse();
    }

    [Fact]
    public void Scan_Qwen35Template_OpensThinkingWhenOn()
    {
        var template = """
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\n' }}
                {%- if enable_thinking is defined and enable_thinking is true %}
                    {{- '<think>\n' }}
                {%- else %}
                    {{- '<think>\n\n</think>\n\n' }}
                {%- endif %}
            {%- endif %}
            """;

        ChatTemplateScanner.Scan(template).OpensThinkingInPrompt.ShouldBeTrue();
    }

    [Fact]
    public void Scan_ThinkOutsideTheGenerationPrompt_DoesNotCount()
    {
        var template = "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
            + "{% for m in messages %}{{ '<think>' + m.content }}{% endfor %}";

        ChatTemplateScanner.Scan(template).OpensThinkingInPrompt.ShouldBeFalse();
    }
}
