using System.Runtime.CompilerServices;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>ip addr add CIDR dev DEV</c>; undone by ip addr del.</summary>
public sealed record AddressAdd(string Device, string Cidr, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("address-add", "ip addr add ADDRESS dev DEV",
        [new("dev", FieldType.Interface, "the link", Required: true), new("address", FieldType.Cidr, "address/prefix, e.g. 172.16.100.1/24", Required: true), FieldSpec.In],
        r =>
        {
            var dev = r.Interface("dev", required: true);
            var address = r.Cidr("address", required: true);
            return dev is null || address is null ? null : new AddressAdd(dev, address, r.PlaceOf());
        }, rank: 120);

    public override string Keyword => Kind.Keyword;

    public override void Apply(HostModel host)
    {
        if (host.Namespace(In) is { } key && host.Link(key, In, Device) is { } link && !host.Fails) link.Addresses.Add(Cidr);
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        var undo = new UndoCommand($"remove {Cidr} from {Device} in {t.Label}", [.. t.Ip("addr", "del", Cidr, "dev", Device)],
            ["Cannot assign requested address", .. GoneErrors.Link, .. GoneErrors.Namespace],
            new Verification(VerificationKind.Absent, [.. t.Ip("-o", "addr", "show", "dev", Device, "to", Cidr)], null));
        return context.DoAsync(t.Ip("addr", "add", Cidr, "dev", Device), undo, ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>ip addr add ADDRESS dev DEV</c> (YAML <c>address-add</c>).</summary>
    public static ActionClause Address(this StepBuilder step, string dev, string address, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(AddressAdd.Kind, file, line, ("dev", dev), ("address", address));
}
