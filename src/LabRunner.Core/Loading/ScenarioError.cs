using System.Collections.Immutable;
using LabRunner.Model;

namespace LabRunner.Loading;

/// <summary>One problem in a scenario: where, what is wrong, and (when it helps) what would be right.</summary>
public sealed record ScenarioError(SourceSpan Span, string Message, string? Hint = null)
{
    public override string ToString() =>
        $"{Span}: error: {Message}" + (Hint is null ? "" : $"{Environment.NewLine}    hint: {Hint}");
}

/// <summary>Thrown when a scenario is invalid; nothing has been touched when it is thrown.</summary>
public sealed class ScenarioInvalidException(ImmutableArray<ScenarioError> errors)
    : Exception(errors.Length == 1
        ? errors[0].ToString()
        : $"{errors.Length} errors:{Environment.NewLine}" + string.Join(Environment.NewLine, errors))
{
    public ImmutableArray<ScenarioError> Errors { get; } = errors;
}
