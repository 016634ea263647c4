using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace LabRunner.Scripting;

/// <summary>
/// Rewrites a lab script so that it cannot overflow the stack or loop forever unnoticed: every method, local
/// function, constructor, accessor, operator and lambda body starts with <see cref="ScriptGuard.Enter"/>, every loop
/// body with <see cref="ScriptGuard.Tick"/>. Edits are made in the text, never adding a line break, so line numbers
/// stay true; <see cref="Original"/> maps a position in the rewritten text back to the script as written (for
/// columns on a line that received a call).
/// </summary>
/// <remarks>
/// Expression bodies: a method's or accessor's <c>=&gt; e;</c> becomes a block (<c>{ Enter(); return e; }</c>, or
/// <c>{ Enter(); e; }</c> when it returns nothing: its declared type says which). A lambda has no declared type, so
/// <c>x =&gt; e</c> becomes <c>x =&gt; ScriptGuard.Run(() =&gt; e)</c>, whose overloads (Func&lt;T&gt; / Action)
/// make C# pick what the lambda returned before. Lambdas with ref/out/in parameters (which a nested lambda cannot
/// capture), <c>throw</c> and <c>ref</c> bodies are left as they are; so are <c>#load</c>ed files. The thread
/// deadline in <see cref="LabScript"/> still bounds them.
/// </remarks>
internal sealed class ScriptGuards
{
    private const string Guard = "global::LabRunner.Scripting.ScriptGuard";
    private const string Enter = Guard + ".Enter();";
    private const string Tick = Guard + ".Tick();";

    private readonly List<Edit> _edits;

    private ScriptGuards(string code, List<Edit> edits)
    {
        _edits = edits;
        var text = new StringBuilder(code.Length + edits.Sum(e => e.Text.Length));
        var at = 0;
        foreach (var edit in edits)
        {
            text.Append(code, at, edit.Start - at).Append(edit.Text);
            at = edit.Start + edit.Length;
        }
        Code = text.Append(code, at, code.Length - at).ToString();
        Lines = SourceText.From(Code);
        OriginalLines = SourceText.From(code);
    }

    /// <summary>The rewritten script.</summary>
    public string Code { get; }

    private SourceText Lines { get; }

    private SourceText OriginalLines { get; }

    /// <summary>A change of the text: <see cref="Length"/> characters at <see cref="Start"/> replaced by <see cref="Text"/>.</summary>
    private sealed record Edit(int Start, int Length, string Text, int Order);

    public static ScriptGuards Of(string code)
    {
        var root = CSharpSyntaxTree.ParseText(code, CSharpParseOptions.Default.WithKind(SourceCodeKind.Script)).GetRoot();
        var walker = new Walker();
        walker.Visit(root);
        // At one position: insertions before a replacement; closing text of inner constructs before outer ones,
        // opening text of outer constructs before inner ones (Order carries that).
        var edits = walker.Edits.OrderBy(e => e.Start).ThenBy(e => e.Length).ThenBy(e => e.Order).ToList();
        return new ScriptGuards(code, edits);
    }

    /// <summary>The line and column (1-based) in the script as written of a line and column of the rewritten text.</summary>
    public (int Line, int Column) Original(int line, int column)
    {
        if (line < 1 || line > Lines.Lines.Count) return (line, column);
        var position = Math.Min(Lines.Lines[line - 1].Start + Math.Max(0, column - 1), Code.Length);
        var delta = 0; // characters the edits before the position added
        int? original = null;
        foreach (var edit in _edits)
        {
            var start = edit.Start + delta; // where the edit's text begins in the rewritten code
            if (position < start) break;
            if (position < start + edit.Text.Length)
            {
                // In text the guards wrote: the script's own code that follows it, on the same line.
                var after = edit.Start + edit.Length;
                while (after < OriginalLines.Length && OriginalLines[after] is ' ' or '\t') after++;
                original = after;
                break;
            }
            delta += edit.Text.Length - edit.Length;
        }
        original ??= position - delta;
        var at = OriginalLines.Lines.GetLinePosition(Math.Clamp(original.Value, 0, OriginalLines.Length));
        return (at.Line + 1, at.Character + 1);
    }

    private sealed class Walker() : CSharpSyntaxWalker(SyntaxWalkerDepth.Node)
    {
        public List<Edit> Edits { get; } = [];

        private int _depth;

        public override void Visit(SyntaxNode? node)
        {
            _depth++;
            // Methods, constructors, destructors, operators and conversions: one case for every member with a body.
            if (node is BaseMethodDeclarationSyntax member)
            {
                GuardBlock(member.Body);
                GuardArrow(member.ExpressionBody, member.SemicolonToken, member switch
                {
                    MethodDeclarationSyntax m => !ReturnsNothing(m.ReturnType, m.Modifiers),
                    OperatorDeclarationSyntax or ConversionOperatorDeclarationSyntax => true,
                    _ => false, // constructors and destructors
                });
            }
            base.Visit(node);
            _depth--;
        }

        private void Insert(int position, string text, bool closing) =>
            Edits.Add(new Edit(position, 0, text, closing ? -_depth : _depth));

        private void Replace(SyntaxToken token, string text) => Edits.Add(new Edit(token.SpanStart, token.Span.Length, text, 0));

        private void GuardBlock(BlockSyntax? body, string call = Enter)
        {
            if (body is not null && !body.OpenBraceToken.IsMissing) Insert(body.OpenBraceToken.Span.End, call, closing: false);
        }

        /// <summary><c>=&gt; e;</c> of a member becomes <c>{ Enter(); return e; }</c> (or without return, or inside get { }).</summary>
        private void GuardArrow(ArrowExpressionClauseSyntax? arrow, SyntaxToken semicolon, bool returnsValue, bool asGetter = false)
        {
            if (arrow is null || semicolon.IsMissing || semicolon.Span.Length == 0) return;
            var open = returnsValue ? $"{{{Enter} return " : $"{{{Enter} ";
            Replace(arrow.ArrowToken, asGetter ? "{ get " + open : open);
            Replace(semicolon, asGetter ? "; } }" : "; }");
        }

        private static bool ReturnsNothing(TypeSyntax type, SyntaxTokenList modifiers) =>
            type is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword }
            || modifiers.Any(SyntaxKind.AsyncKeyword) && (type is IdentifierNameSyntax { Identifier.Text: "Task" or "ValueTask" }
                                                          || type is QualifiedNameSyntax { Right: IdentifierNameSyntax { Identifier.Text: "Task" or "ValueTask" } });

        public override void VisitLocalFunctionStatement(LocalFunctionStatementSyntax node)
        {
            GuardBlock(node.Body);
            GuardArrow(node.ExpressionBody, node.SemicolonToken, !ReturnsNothing(node.ReturnType, node.Modifiers));
            base.VisitLocalFunctionStatement(node);
        }

        public override void VisitPropertyDeclaration(PropertyDeclarationSyntax node)
        {
            if (node.ExpressionBody is not null && node.Type is not RefTypeSyntax) GuardArrow(node.ExpressionBody, node.SemicolonToken, returnsValue: true, asGetter: true);
            base.VisitPropertyDeclaration(node);
        }

        public override void VisitIndexerDeclaration(IndexerDeclarationSyntax node)
        {
            if (node.ExpressionBody is not null && node.Type is not RefTypeSyntax) GuardArrow(node.ExpressionBody, node.SemicolonToken, returnsValue: true, asGetter: true);
            base.VisitIndexerDeclaration(node);
        }

        public override void VisitAccessorDeclaration(AccessorDeclarationSyntax node)
        {
            GuardBlock(node.Body);
            GuardArrow(node.ExpressionBody, node.SemicolonToken, returnsValue: node.Keyword.IsKind(SyntaxKind.GetKeyword));
            base.VisitAccessorDeclaration(node);
        }

        public override void VisitAnonymousMethodExpression(AnonymousMethodExpressionSyntax node)
        {
            GuardBlock(node.Block);
            base.VisitAnonymousMethodExpression(node);
        }

        public override void VisitSimpleLambdaExpression(SimpleLambdaExpressionSyntax node)
        {
            GuardLambda(node, [node.Parameter]);
            base.VisitSimpleLambdaExpression(node);
        }

        public override void VisitParenthesizedLambdaExpression(ParenthesizedLambdaExpressionSyntax node)
        {
            GuardLambda(node, node.ParameterList.Parameters);
            base.VisitParenthesizedLambdaExpression(node);
        }

        private void GuardLambda(LambdaExpressionSyntax node, IEnumerable<ParameterSyntax> parameters)
        {
            if (node.Block is { } block)
            {
                GuardBlock(block);
                return;
            }
            if (node.ExpressionBody is not { } body || body.IsMissing || body is ThrowExpressionSyntax or RefExpressionSyntax
                || parameters.Any(p => p.Modifiers.Any(m => m.Kind() is SyntaxKind.RefKeyword or SyntaxKind.OutKeyword or SyntaxKind.InKeyword or SyntaxKind.ScopedKeyword)))
                return;
            var async = node.AsyncKeyword.IsKind(SyntaxKind.AsyncKeyword);
            Insert(body.SpanStart, async ? $"await {Guard}.Run(async () => " : $"{Guard}.Run(() => ", closing: false);
            Insert(body.Span.End, ")", closing: true);
        }

        public override void VisitWhileStatement(WhileStatementSyntax node)
        {
            GuardLoop(node.Statement);
            base.VisitWhileStatement(node);
        }

        public override void VisitDoStatement(DoStatementSyntax node)
        {
            GuardLoop(node.Statement);
            base.VisitDoStatement(node);
        }

        public override void VisitForStatement(ForStatementSyntax node)
        {
            GuardLoop(node.Statement);
            base.VisitForStatement(node);
        }

        public override void VisitForEachStatement(ForEachStatementSyntax node)
        {
            GuardLoop(node.Statement);
            base.VisitForEachStatement(node);
        }

        public override void VisitForEachVariableStatement(ForEachVariableStatementSyntax node)
        {
            GuardLoop(node.Statement);
            base.VisitForEachVariableStatement(node);
        }

        private void GuardLoop(StatementSyntax body)
        {
            if (body.IsMissing) return;
            if (body is BlockSyntax block)
            {
                GuardBlock(block, Tick);
                return;
            }
            Insert(body.SpanStart, "{" + Tick + " ", closing: false);
            Insert(body.Span.End, " }", closing: true);
        }
    }
}
