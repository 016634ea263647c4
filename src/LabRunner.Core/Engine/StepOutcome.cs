using LabRunner.Model;

namespace LabRunner.Engine;

/// <summary>One expectation as checked: what was expected, what was observed.</summary>
public sealed record CheckOutcome(Expectation Expectation, ExpectationResult Result);

/// <summary>
/// What one step did: passed, or the failures as "span: expected ...; observed ..." (as LabResult.Failures says
/// them); <see cref="Checks"/> holds every expectation checked, held or not.
/// </summary>
public sealed record StepOutcome(Step Step, bool Passed, IReadOnlyList<string> Failures, IReadOnlyList<CheckOutcome> Checks);

