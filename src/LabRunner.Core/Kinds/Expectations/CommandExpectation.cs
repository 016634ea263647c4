using System.Runtime.CompilerServices;
using System.Collections.Immutable;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>A literal command's exit code and output; for what no other expectation covers.</summary>
public sealed record CommandExpectation(Place In, ImmutableArray<string> Argv, int? ExitCode, string? OutputContains) : Expectation
{
    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(CommandExpectation? other) =>
        other is not null && base.Equals(other) && In == other.In && Sequences.Equal(Argv, other.Argv) && ExitCode == other.ExitCode &&
        OutputContains == other.OutputContains;

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), In, Sequences.Hash(Argv), ExitCode, OutputContains);

    public static readonly ExpectationKind Kind = new("command", "a literal command: its exit code and/or output (exit 0 when neither is given)",
        [
            new("argv", FieldType.Argv, "the command, e.g. [ip, link, show]", Required: true),
            new("exit-code", FieldType.Integer, "the exit code it must give") { Min = 0, Max = 255 },
            new("output-contains", FieldType.Text, "text its output must contain"),
            FieldSpec.In,
        ],
        r =>
        {
            var argv = r.Argv("argv", required: true);
            var exit = r.Int("exit-code", 0, 255);
            var contains = r.Text("output-contains");
            if (exit is null && contains is null && !r.Has("exit-code")) exit = 0;
            return argv is null ? null : new CommandExpectation(r.PlaceOf(), argv.Value, exit, contains);
        }, rank: 110);

    public override string Keyword => Kind.Keyword;

    public override string Describe() =>
        $"`{string.Join(' ', Argv)}` in {In}" + (ExitCode is null ? "" : $" exits {ExitCode}") +
        (OutputContains is null ? "" : $" and prints \"{OutputContains}\"");

    public override IEnumerable<string?> Templated => [.. Argv, OutputContains];

    public override void Check(HostModel host) => host.Namespace(In);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var session = context.Session;
        var outcome = await context.Places.RunAsync(In, [.. Argv.Select(session.Expand)], CommandPurpose.Check, ct);
        var contains = OutputContains is null ? null : session.Expand(OutputContains);
        var held = (ExitCode is null || outcome.ExitCode == ExitCode) && (contains is null || outcome.Output.Contains(contains, StringComparison.Ordinal));
        var output = outcome.Output.Trim().ReplaceLineEndings(" | ");
        return (held, $"exit {outcome.ExitCode}: {(output.Length > 300 ? output[..300] + "..." : output)}");
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>
    /// A literal command's exit code and/or output (YAML <c>command</c>); exit code 0 when neither is given.
    /// Arguments may use ${NAME.pid} and ${uplink.ip}.
    /// </summary>
    public static ExpectClause Command(this ExpectationPicker expect, string[] argv, int? exitCode = null, string? outputContains = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(CommandExpectation.Kind, file, line, ("argv", argv), ("exit-code", exitCode), ("output-contains", outputContains));
}
