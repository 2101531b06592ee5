using MlxManager.Core.Chat.Tools;

namespace MlxManager.Core.Tests.Chat.Tools;

public class ArithmeticEvaluatorTests
{
    private readonly ArithmeticEvaluator _evaluator = new();

    [Theory]
    [InlineData("1 + 2 * 3", 7)]
    [InlineData("(1 + 2) * 3", 9)]
    [InlineData("10 - 4 - 3", 3)]
    [InlineData("100 / 10 / 5", 2)]
    [InlineData("2 ^ 3 ^ 2", 512)]
    [InlineData("2 ** 3 ** 2", 512)]
    [InlineData("-2 ^ 2", -4)]
    [InlineData("(-2) ^ 2", 4)]
    [InlineData("2 ^ -1", 0.5)]
    [InlineData("--3", 3)]
    [InlineData("-+-3", 3)]
    [InlineData("17 % 5", 2)]
    [InlineData("-7 % 3", -1)]
    [InlineData("2 * 3 ^ 2", 18)]
    [InlineData("6 × 7", 42)]
    [InlineData("84 ÷ 2", 42)]
    [InlineData(".5 + 0.25", 0.75)]
    [InlineData("1.5e3", 1500)]
    [InlineData("2.5E-1", 0.25)]
    [InlineData("sqrt(16) + abs(-4)", 8)]
    [InlineData("round(2.5)", 3)]
    [InlineData("round(3.14159, 2)", 3.14)]
    [InlineData("floor(-1.5) + ceil(1.2)", 0)]
    [InlineData("min(3, 1, 2) + max(3, 1, 2)", 4)]
    [InlineData("pow(2, 10)", 1024)]
    [InlineData("log(1000)", 3)]
    [InlineData("log(8, 2)", 3)]
    [InlineData("ln(e)", 1)]
    [InlineData("log2(1024)", 10)]
    [InlineData("exp(0)", 1)]
    [InlineData("cos(0) + sin(0)", 1)]
    [InlineData("PI / pi", 1)]
    [InlineData("  ( ( 1 ) )  ", 1)]
    public void Evaluate_ComputesWithUsualPrecedenceAndAssociativity(string expression, double expected)
    {
        _evaluator.Evaluate(expression).ShouldBe(expected, 1e-12);
    }

    [Fact]
    public void Format_ShowsWhatPeopleExpect()
    {
        ArithmeticEvaluator.Format(_evaluator.Evaluate("0.1 + 0.2")).ShouldBe("0.3");
        ArithmeticEvaluator.Format(_evaluator.Evaluate("17 * 23")).ShouldBe("391");
        ArithmeticEvaluator.Format(_evaluator.Evaluate("-0")).ShouldBe("0");
        ArithmeticEvaluator.Format(_evaluator.Evaluate("1 / 3")).ShouldBe("0.333333333333333");
    }

    [Theory]
    [InlineData("1 / 0", "Division by zero", 2)]
    [InlineData("5 % (2 - 2)", "Modulo by zero", 2)]
    [InlineData("0 ^ -1", "Division by zero", 2)]
    [InlineData("1 / (3 - 3)", "Division by zero", 2)]
    public void Evaluate_DivisionByZero_IsAClearError(string expression, string message, int position)
    {
        var error = Should.Throw<ArithmeticExpressionException>(() => _evaluator.Evaluate(expression));
        error.Message.ShouldStartWith(message);
        error.Position.ShouldBe(position);
    }

    [Theory]
    [InlineData("2 +", "ends where a number was expected", 3)]
    [InlineData("2 + * 3", "Unexpected '*'", 4)]
    [InlineData("(1 + 2", "Missing ')'", 0)]
    [InlineData("1 + 2)", "Unexpected ')'", 5)]
    [InlineData("2x", "write 2*x", 1)]
    [InlineData("2 pi", "Expected an operator", 2)]
    [InlineData("1,000", "Unexpected ','", 1)]
    [InlineData("3 $ 4", "Unexpected '$'", 2)]
    [InlineData("max(1 2)", "Expected ',' or ')'", 6)]
    [InlineData(".", "not a number", 0)]
    public void Evaluate_BadSyntax_SaysWhatAndWhere(string expression, string message, int position)
    {
        var error = Should.Throw<ArithmeticExpressionException>(() => _evaluator.Evaluate(expression));
        error.Message.ShouldContain(message);
        error.Position.ShouldBe(position);
        error.Message.ShouldContain($"position {position + 1}");
    }

    [Theory]
    [InlineData("foo + 1", "Unknown name 'foo'")]
    [InlineData("system(1)", "Unknown function 'system'")]
    [InlineData("__import__(1)", "Unknown function '__import__'")]
    [InlineData("Math.Pow(2, 3)", "Unknown name 'Math'")]
    public void Evaluate_UnknownIdentifiers_AreRefused(string expression, string message)
    {
        Should.Throw<ArithmeticExpressionException>(() => _evaluator.Evaluate(expression)).Message.ShouldContain(message);
    }

    [Theory]
    [InlineData("sqrt(-1)", "not a real number")]
    [InlineData("ln(0)", "logarithm of zero")]
    [InlineData("10 ^ 400", "too large")]
    [InlineData("1e999", "too large")]
    [InlineData("exp(1000)", "too large")]
    [InlineData("pow(1)", "pow expects 2 arguments, got 1")]
    [InlineData("sqrt(1, 2)", "sqrt expects 1 argument, got 2")]
    [InlineData("min()", "min expects at least 1 arguments, got 0")]
    [InlineData("round(1.5, 2.5)", "whole number of digits")]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    public void Evaluate_ResultsThatAreNotFiniteRealNumbers_OrBadCalls_AreRefused(string expression, string message)
    {
        Should.Throw<ArithmeticExpressionException>(() => _evaluator.Evaluate(expression)).Message.ShouldContain(message);
    }

    [Fact]
    public void Evaluate_OverlyLongInput_IsRefusedBeforeParsing()
    {
        var expression = string.Join("+", Enumerable.Repeat("1", 600));

        Should.Throw<ArithmeticExpressionException>(() => _evaluator.Evaluate(expression)).Message.ShouldContain("too long");
    }

    [Theory]
    [InlineData(65, "(", ")")]
    [InlineData(65, "-", "")]
    [InlineData(65, "sqrt(", ")")]
    [InlineData(400, "(", ")")]
    public void Evaluate_DeepNesting_IsRefusedWithoutOverflowingTheStack(int depth, string open, string close)
    {
        var expression = string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
        if (expression.Length > ArithmeticEvaluator.MaxLength)
        {
            expression = expression[..ArithmeticEvaluator.MaxLength];
        }

        Should.Throw<ArithmeticExpressionException>(() => _evaluator.Evaluate(expression)).Message.ShouldContain("nested too deeply");
    }

    [Fact]
    public void Evaluate_NestingUpToTheLimit_Works()
    {
        var expression = new string('(', 60) + "2" + new string(')', 60);

        _evaluator.Evaluate(expression).ShouldBe(2);
    }

    [Fact]
    public void Evaluate_LongChainOfPowers_IsBoundedByDepthToo()
    {
        var expression = string.Join("^", Enumerable.Repeat("1", 100));

        Should.Throw<ArithmeticExpressionException>(() => _evaluator.Evaluate(expression)).Message.ShouldContain("nested too deeply");
    }
}
