namespace LabRunner.Execution;

public static class ArgvExtensions
{
    /// <summary>The argv as a person would type it in a shell, quoting only where needed.</summary>
    public static string Display(this IEnumerable<string> argv) => string.Join(' ', argv.Select(Quote));

    public static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@,+%<>${}".Contains(c))
            ? arg
            : "'" + arg.Replace("'", "'\\''") + "'";
}
