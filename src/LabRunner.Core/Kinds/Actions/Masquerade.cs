using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// How a container reaches the outside: <c>iptables -t nat -A POSTROUTING -s SUBNET [-o LINK] -j MASQUERADE</c>, the
/// rule Docker adds for its bridge's subnet. Packets from the subnet leave with the address of the link they go out
/// of, and conntrack turns the replies back. Sugar for one <c>iptables-rule</c>: `plan` shows the real rule, and
/// teardown deletes exactly it.
/// </summary>
public sealed record Masquerade(string Source, string? Out, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("masquerade", "iptables -t nat -A POSTROUTING -s SUBNET [-o LINK] -j MASQUERADE",
        [
            new("source", FieldType.Cidr, "the subnet whose packets are masqueraded, e.g. 172.16.100.0/24", Required: true),
            new("out", FieldType.Interface, "only packets leaving through this link (-o), e.g. the uplink ens3; default: through any"),
            FieldSpec.In,
        ],
        r =>
        {
            var source = r.Cidr("source", required: true);
            var @out = r.Interface("out");
            return source is null ? null : new Masquerade(source, @out, r.PlaceOf());
        },
        rank: 156);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => [new("iptables", "iptables")];

    /// <summary>The rule after the chain, as iptables takes it.</summary>
    public IReadOnlyList<string> Rule => Out is null ? ["-s", Source, "-j", "MASQUERADE"] : ["-s", Source, "-o", Out, "-j", "MASQUERADE"];

    public override void Apply(HostModel host)
    {
        if (host.Namespace(In) is { } key && Out is not null) host.Link(key, In, Out);
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct) =>
        IptablesRule.AddAsync(context, context.Target(In), "nat", "POSTROUTING", Rule, insert: false, ct);
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>iptables -t nat -A POSTROUTING -s SOURCE [-o OUT] -j MASQUERADE</c> (YAML <c>masquerade</c>); deleted at teardown.</summary>
    public static ActionClause Masquerade(this StepBuilder step, string source, string? @out = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(Model.Masquerade.Kind, file, line, ("source", source), ("out", @out));
}
