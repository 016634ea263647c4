namespace LabRunner.Model;

/// <summary>Where a scenario element was written, so every error and report can point at it.</summary>
public sealed record SourceSpan(string File, int Line, int Column)
{
    public static readonly SourceSpan None = new("<code>", 0, 0);

    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}" : File;
}
