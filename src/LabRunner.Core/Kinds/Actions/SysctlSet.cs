using System.Runtime.CompilerServices;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>sysctl -w KEY=VALUE</c>; the old value is read first and restored at teardown.</summary>
public sealed record SysctlSet(string Key, string Value, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("sysctl", "sysctl -w KEY=VALUE",
        [new("key", FieldType.SysctlKey, "e.g. net.ipv4.ip_forward", Required: true), new("value", FieldType.Text, "the new value", Required: true), FieldSpec.In],
        r =>
        {
            var key = r.SysctlKey("key", required: true);
            var value = r.String("value", required: true);
            if (value is not null && (value.Length == 0 || value.Any(char.IsControl))) r.Error(r.SpanOf("value"), "'value' must be a non-empty single-line value");
            return key is null || value is null ? null : new SysctlSet(key, value, r.PlaceOf());
        }, rank: 140);

    public override string Keyword => Kind.Keyword;

    public override void Apply(HostModel host) => host.Namespace(In);

    public override async Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        var read = t.Exec("sysctl", "-n", Key);
        var old = await context.CheckAsync(read, ct);
        if (!old.Succeeded) return old;
        var oldValue = context.IsDryRun ? $"<old {Key}>" : ObserveContext.Words(old.Stdout);
        var undo = new UndoCommand($"restore {Key}={oldValue} in {t.Label}", [.. t.Exec("sysctl", "-w", $"{Key}={oldValue}")],
            GoneErrors.Namespace, new Verification(VerificationKind.FirstLineEquals, [.. read], oldValue));
        return await context.DoAsync(t.Exec("sysctl", "-w", $"{Key}={Value}"), undo, ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>sysctl -w KEY=VALUE</c> (YAML <c>sysctl</c>); the old value is restored at teardown.</summary>
    public static ActionClause Sysctl(this StepBuilder step, string key, string value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(SysctlSet.Kind, file, line, ("key", key), ("value", value));
}
