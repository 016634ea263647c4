namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// One class of cause a diagnosis can name, in a file of its own: a stable id (what a lab's <c>why:</c> names), what it
/// detects and the fix it suggests (docs/SCENARIO-LANGUAGE.md's table), and how it looks. <see cref="DiagnosisWalk"/>
/// calls the classes in the order of the path; each reads what it needs (never changes anything), adds its findings,
/// and may stop the walk when nothing further along the path can be judged (no route, a link down, no ARP answer).
/// </summary>
internal interface IDiagnosisClass
{
    DiagnosisClassInfo Info { get; }

    /// <summary>Looks, and adds what it finds to <paramref name="cx"/>; true: the walk stops here.</summary>
    Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct);
}

/// <summary>A diagnosis class as a lab and its reader see it: its id, what it detects, the fix it suggests.</summary>
public sealed record DiagnosisClassInfo(string Id, string Detects, string Fix);
