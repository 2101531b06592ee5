using System.Globalization;

namespace MlxManager.Core.Chat.Tools;

/// <summary>An expression the evaluator refuses, with the 0-based character position where the problem is.</summary>
public sealed class ArithmeticExpressionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ArithmeticExpressionException(string message, int? position = null)
        : base(position is { } p ? $"{message} (at position {p + 1})" : message)
    {
        Position = position;
    }

    /// <summary>0-based position in the expression, when the problem has one.</summary>
    public int? Position { get; }
}

/// <summary>
/// Evaluates arithmetic safely: a hand-written recursive-descent parser over doubles. No code execution,
/// no reflection, bounded length and nesting.
/// </summary>
/// <remarks>
/// Grammar (lowest precedence first): <c>+ -</c>; <c>* / %</c>; unary <c>+ -</c>; <c>^</c> or <c>**</c>
/// (right-associative, binding tighter than unary minus: <c>-2^2 = -4</c>, <c>2^-1 = 0.5</c>); numbers
/// (<c>12</c>, <c>0.5</c>, <c>.5</c>, <c>1e3</c>), parentheses, constants <c>pi</c>, <c>e</c>, <c>tau</c>, and
/// functions <c>sqrt abs round floor ceil min max pow sin cos tan asin acos atan log ln log2 log10 exp</c>
/// (angles in radians; <c>log(x)</c> is base 10, <c>log(x, b)</c> base b). <c>×</c> and <c>÷</c> are accepted
/// for <c>*</c> and <c>/</c>. Names are case-insensitive.
/// </remarks>
public sealed class ArithmeticEvaluator
{
    /// <summary>Longest accepted expression, in characters.</summary>
    public const int MaxLength = 1000;

    /// <summary>Deepest accepted nesting of parentheses, function calls and signs.</summary>
    public const int MaxDepth = 64;

    private static readonly Dictionary<string, double> Constants = new(StringComparer.OrdinalIgnoreCase)
    {
        ["pi"] = Math.PI,
        ["e"] = Math.E,
        ["tau"] = Math.Tau,
    };

    private static readonly string[] FunctionNames =
        ["sqrt", "abs", "round", "floor", "ceil", "min", "max", "pow", "sin", "cos", "tan", "asin", "acos", "atan", "log", "ln", "log2", "log10", "exp"];

    /// <summary>Evaluates <paramref name="expression"/>.</summary>
    /// <exception cref="ArithmeticExpressionException">Bad syntax, unknown name, division by zero, a result that is not a finite real number, or input too long or too deep.</exception>
    public double Evaluate(string expression)
    {
        if (string.IsNullOrWhiteSpace(expression))
        {
            throw new ArithmeticExpressionException("The expression is empty.");
        }

        if (expression.Length > MaxLength)
        {
            throw new ArithmeticExpressionException($"The expression is too long ({expression.Length} characters; at most {MaxLength}).");
        }

        var parser = new Parser(expression);
        var value = parser.ParseExpression();
        parser.SkipSpaces();
        if (!parser.AtEnd)
        {
            throw new ArithmeticExpressionException($"Unexpected '{parser.Current}'", parser.Position);
        }

        return Check(value, null);
    }

    /// <summary>Formats a result for people and models: invariant culture, 15 significant digits (0.1 + 0.2 → 0.3).</summary>
    public static string Format(double value)
    {
        if (value == 0)
        {
            return "0"; // also for -0
        }

        return value.ToString("G15", CultureInfo.InvariantCulture);
    }

    private static double Check(double value, int? position)
    {
        if (double.IsNaN(value))
        {
            throw new ArithmeticExpressionException("The result is not a real number.", position);
        }

        if (double.IsInfinity(value))
        {
            throw new ArithmeticExpressionException("The result is too large.", position);
        }

        return value;
    }

    private sealed class Parser(string text)
    {
        private int _pos;
        private int _depth;

        public int Position => _pos;

        public bool AtEnd => _pos >= text.Length;

        public char Current => text[_pos];

        public void SkipSpaces()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }
        }

        public double ParseExpression()
        {
            var value = ParseTerm();
            while (true)
            {
                SkipSpaces();
                if (Accept('+'))
                {
                    value = Check(value + ParseTerm(), null);
                }
                else if (Accept('-') || Accept('−'))
                {
                    value = Check(value - ParseTerm(), null);
                }
                else
                {
                    return value;
                }
            }
        }

        private double ParseTerm()
        {
            var value = ParseUnary();
            while (true)
            {
                SkipSpaces();
                var at = _pos;
                if (Peek('*') && !Peek('*', 1) || Peek('×'))
                {
                    _pos++;
                    value = Check(value * ParseUnary(), at);
                }
                else if (Accept('/') || Accept('÷'))
                {
                    var divisor = ParseUnary();
                    if (divisor == 0)
                    {
                        throw new ArithmeticExpressionException("Division by zero", at);
                    }

                    value = Check(value / divisor, at);
                }
                else if (Accept('%'))
                {
                    var divisor = ParseUnary();
                    if (divisor == 0)
                    {
                        throw new ArithmeticExpressionException("Modulo by zero", at);
                    }

                    value = Check(value % divisor, at);
                }
                else
                {
                    return value;
                }
            }
        }

        private double ParseUnary()
        {
            SkipSpaces();
            if (Accept('-') || Accept('−'))
            {
                Enter();
                var value = -ParseUnary();
                _depth--;
                return value;
            }

            if (Accept('+'))
            {
                Enter();
                var value = ParseUnary();
                _depth--;
                return value;
            }

            return ParsePower();
        }

        private double ParsePower()
        {
            var value = ParsePrimary();
            SkipSpaces();
            var at = _pos;
            if (Accept('^') || (Peek('*') && Peek('*', 1) && Advance(2)))
            {
                Enter();
                var exponent = ParseUnary(); // right-associative: 2^3^2 = 2^(3^2)
                _depth--;
                if (value == 0 && exponent < 0)
                {
                    throw new ArithmeticExpressionException("Division by zero (zero to a negative power)", at);
                }

                return Check(Math.Pow(value, exponent), at);
            }

            return value;
        }

        private double ParsePrimary()
        {
            SkipSpaces();
            if (AtEnd)
            {
                throw new ArithmeticExpressionException("The expression ends where a number was expected", _pos);
            }

            var c = text[_pos];
            if (c == '(')
            {
                var open = _pos++;
                Enter();
                var value = ParseExpression();
                SkipSpaces();
                if (!Accept(')'))
                {
                    throw new ArithmeticExpressionException(AtEnd ? "Missing ')' for the '(' opened" : $"Expected ')' but found '{Current}'", AtEnd ? open : _pos);
                }

                _depth--;
                return value;
            }

            if (char.IsAsciiDigit(c) || c == '.')
            {
                return ParseNumber();
            }

            if (char.IsAsciiLetter(c) || c == '_')
            {
                return ParseName();
            }

            if (c == 'π')
            {
                _pos++;
                return Math.PI;
            }

            throw new ArithmeticExpressionException($"Unexpected '{c}'", _pos);
        }

        private double ParseNumber()
        {
            var start = _pos;
            while (!AtEnd && char.IsAsciiDigit(text[_pos]))
            {
                _pos++;
            }

            if (!AtEnd && text[_pos] == '.')
            {
                _pos++;
                while (!AtEnd && char.IsAsciiDigit(text[_pos]))
                {
                    _pos++;
                }
            }

            // An exponent only when digits follow, so "2e" stays "2" followed by the name "e" (an error).
            if (!AtEnd && (text[_pos] is 'e' or 'E'))
            {
                var look = _pos + 1;
                if (look < text.Length && text[look] is '+' or '-')
                {
                    look++;
                }

                if (look < text.Length && char.IsAsciiDigit(text[look]))
                {
                    _pos = look;
                    while (!AtEnd && char.IsAsciiDigit(text[_pos]))
                    {
                        _pos++;
                    }
                }
            }

            var span = text.AsSpan(start, _pos - start);
            if (span is "." || !double.TryParse(span, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value))
            {
                throw new ArithmeticExpressionException($"'{span}' is not a number", start);
            }

            if (double.IsInfinity(value))
            {
                throw new ArithmeticExpressionException($"The number '{span}' is too large", start);
            }

            SkipSpaces();
            if (!AtEnd && (char.IsAsciiLetter(Current) || Current == '('))
            {
                throw new ArithmeticExpressionException($"Expected an operator after the number, found '{Current}' (write 2*x, not 2x)", _pos);
            }

            return value;
        }

        private double ParseName()
        {
            var start = _pos;
            while (!AtEnd && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] == '_'))
            {
                _pos++;
            }

            var name = text[start.._pos];
            SkipSpaces();
            if (!AtEnd && Current == '(')
            {
                if (!FunctionNames.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    throw new ArithmeticExpressionException(
                        $"Unknown function '{name}'. Known functions: {string.Join(", ", FunctionNames)}", start);
                }

                var open = _pos++;
                Enter();
                var arguments = new List<double>();
                SkipSpaces();
                if (!Accept(')'))
                {
                    while (true)
                    {
                        arguments.Add(ParseExpression());
                        SkipSpaces();
                        if (Accept(','))
                        {
                            continue;
                        }

                        if (Accept(')'))
                        {
                            break;
                        }

                        throw new ArithmeticExpressionException(AtEnd ? $"Missing ')' for {name}(" : $"Expected ',' or ')' but found '{Current}'", AtEnd ? open : _pos);
                    }
                }

                _depth--;
                return Call(name.ToLowerInvariant(), arguments, start);
            }

            if (Constants.TryGetValue(name, out var constant))
            {
                return constant;
            }

            throw new ArithmeticExpressionException(
                $"Unknown name '{name}'. Known constants: pi, e, tau; functions: {string.Join(", ", FunctionNames)}", start);
        }

        private static double Call(string name, List<double> args, int at)
        {
            void Arity(int min, int max)
            {
                if (args.Count < min || args.Count > max)
                {
                    var expected = min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} or {max}";
                    throw new ArithmeticExpressionException($"{name} expects {expected} argument{(min == 1 && max == 1 ? "" : "s")}, got {args.Count}", at);
                }
            }

            switch (name)
            {
                case "min" or "max":
                    Arity(1, int.MaxValue);
                    return name == "min" ? args.Min() : args.Max();
                case "pow":
                    Arity(2, 2);
                    if (args[0] == 0 && args[1] < 0)
                    {
                        throw new ArithmeticExpressionException("Division by zero (zero to a negative power)", at);
                    }

                    return Check(Math.Pow(args[0], args[1]), at);
                case "round":
                    Arity(1, 2);
                    if (args.Count == 1)
                    {
                        return Math.Round(args[0], MidpointRounding.AwayFromZero);
                    }

                    if (args[1] != Math.Floor(args[1]) || args[1] is < 0 or > 15)
                    {
                        throw new ArithmeticExpressionException("round's second argument must be a whole number of digits from 0 to 15", at);
                    }

                    return Math.Round(args[0], (int)args[1], MidpointRounding.AwayFromZero);
                case "log":
                    Arity(1, 2);
                    if (args.Count == 2)
                    {
                        if (args[1] <= 0 || args[1] == 1)
                        {
                            throw new ArithmeticExpressionException("The base of log must be positive and not 1", at);
                        }

                        return Math.Log(Positive(args[0], at), args[1]);
                    }

                    return Math.Log10(Positive(args[0], at));
            }

            Arity(1, 1);
            var x = args[0];
            return name switch
            {
                "sqrt" => x < 0 ? throw new ArithmeticExpressionException("sqrt of a negative number is not a real number", at) : Math.Sqrt(x),
                "abs" => Math.Abs(x),
                "floor" => Math.Floor(x),
                "ceil" => Math.Ceiling(x),
                "sin" => Math.Sin(x),
                "cos" => Math.Cos(x),
                "tan" => Check(Math.Tan(x), at),
                "asin" => Check(Math.Asin(x), at),
                "acos" => Check(Math.Acos(x), at),
                "atan" => Math.Atan(x),
                "ln" => Math.Log(Positive(x, at)),
                "log2" => Math.Log2(Positive(x, at)),
                "log10" => Math.Log10(Positive(x, at)),
                "exp" => Check(Math.Exp(x), at),
                _ => throw new ArithmeticExpressionException($"Unknown function '{name}'", at),
            };
        }

        private static double Positive(double x, int at) =>
            x > 0 ? x : throw new ArithmeticExpressionException("The logarithm of zero or a negative number is undefined", at);

        private void Enter()
        {
            if (++_depth > MaxDepth)
            {
                throw new ArithmeticExpressionException($"The expression is nested too deeply (more than {MaxDepth} levels)", _pos);
            }
        }

        private bool Peek(char c, int offset = 0) => _pos + offset < text.Length && text[_pos + offset] == c;

        private bool Accept(char c)
        {
            if (!Peek(c))
            {
                return false;
            }

            _pos++;
            return true;
        }

        private bool Advance(int count)
        {
            _pos += count;
            return true;
        }
    }
}
