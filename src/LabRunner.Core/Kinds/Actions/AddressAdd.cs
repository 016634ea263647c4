using System.Runtime.CompilerServices;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// <c>ip addr add CIDR dev DEV</c>; undone by ip addr del. An IPv6 address is added with <c>nodad</c> (usable at once, as
/// Docker's bridge driver adds its own) unless <see cref="Dad"/> asks for the kernel's duplicate address detection.
/// </summary>
public sealed record AddressAdd(string Device, string Cidr, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("address-add", "ip addr add ADDRESS dev DEV [nodad]",
        [
            new("dev", FieldType.Interface, "the link", Required: true),
            new("address", FieldType.IpCidr, "address/prefix, e.g. 172.16.100.1/24 or fd00:100::1/64", Required: true),
            new("dad", FieldType.Boolean, "IPv6 only: keep duplicate address detection, so the address is tentative (unusable) for a second or two (default false: added with nodad)"),
            FieldSpec.In,
        ],
        r =>
        {
            var dev = r.Interface("dev", required: true);
            var address = r.IpCidr("address", required: true);
            var dad = r.Bool("dad");
            if (dad is not null && address is not null && !Loading.Names.IsV6(address))
                r.Error(r.SpanOf("dad"), "'dad' is for IPv6 addresses: IPv4 has no duplicate address detection", "remove it");
            return dev is null || address is null ? null : new AddressAdd(dev, address, r.PlaceOf()) { Dad = dad ?? false };
        }, rank: 120);

    /// <summary>IPv6: leave duplicate address detection on (the address is tentative at first); false adds it with nodad.</summary>
    public bool Dad { get; init; }

    public override string Keyword => Kind.Keyword;

    public override bool LeavesNewContainersAlone => true;

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
        string[] nodad = Loading.Names.IsV6(Cidr) && !Dad ? ["nodad"] : [];
        return context.DoAsync(t.Ip(["addr", "add", Cidr, "dev", Device, .. nodad]), undo, ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>
    /// <c>ip addr add ADDRESS dev DEV</c> (YAML <c>address-add</c>): IPv4 or IPv6; an IPv6 address is added with
    /// <c>nodad</c> unless <paramref name="dad"/> is true.
    /// </summary>
    public static ActionClause Address(this StepBuilder step, string dev, string address, bool? dad = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(AddressAdd.Kind, file, line, ("dev", dev), ("address", address), ("dad", dad));
}
