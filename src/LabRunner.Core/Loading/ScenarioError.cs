using System.Collections.Immutable;
using LabRunner.Model;

namespace LabRunner.Loading;

/// <summary>One problem in a scenario: where, what is wrong, and (when it helps) what would be right.</summary>
public sealed record ScenarioError(SourceSpan Span, string Message, string? Hint = null)
{
    /// <summary>A compiler diagnostic id (e.g. CS0029) for errors of C# labs; null for the loader's own errors.</summary>
    public string? Code { get; init; }

    /// <summary>file:line:col: error: message, or file:line:col: error CS0029: message when there is a <see cref="Code"/>.</summary>
    public override string ToString() =>
        $"{Span}: error{(Code is null ? "" : " " + Code)}: {Message}" + (Hint is null ? "" : $"{Environment.NewLine}    hint: {Hint}");
}

/// <summary>Thrown when a scenario is invalid; nothing has been touched when it is thrown.</summary>
public sealed class ScenarioInvalidException(ImmutableArray<ScenarioError> errors)
    : Exception(errors.Length == 1
        ? errors[0].ToString()
        : $"{errors.Length} errors:{Environment.NewLine}" + string.Join(Environment.NewLine, errors))
{
    public ImmutableArray<ScenarioError> Errors { get; } = errors;
}
