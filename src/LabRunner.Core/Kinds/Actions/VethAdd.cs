using System.Runtime.CompilerServices;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>ip link add NAME type veth peer name PEER [netns PEERIN]</c>: a veth pair, its peer optionally elsewhere.</summary>
public sealed record VethAdd(string Name, string Peer, Place In, Place? PeerIn) : LabAction
{
    public static readonly ActionKind Kind = new("veth-add", "ip link add NAME type veth peer name PEER [netns PEER-IN]",
        [
            new("name", FieldType.Interface, "one end", Required: true),
            new("peer", FieldType.Interface, "the other end", Required: true),
            new("peer-in", FieldType.Place, "where the other end is made (default: where 'in' says)"),
            FieldSpec.In,
        ],
        r =>
        {
            var name = r.Interface("name", required: true);
            var peer = r.Interface("peer", required: true);
            var peerIn = r.OptionalPlace("peer-in");
            return name is null || peer is null ? null : new VethAdd(name, peer, r.PlaceOf(), peerIn);
        }, rank: 30);

    public override string Keyword => Kind.Keyword;

    public override bool LeavesNewContainersAlone => true;

    public override void Apply(HostModel host)
    {
        var key = host.Namespace(In);
        var peerKey = PeerIn is null ? key : host.Namespace(PeerIn);
        if (key is null || peerKey is null || host.Fails) return;
        if (Name == Peer && key == peerKey)
        {
            host.Error($"a veth pair needs two names, both are '{Name}'");
            return;
        }
        host.AddVethPair(key, In, Name, peerKey, PeerIn ?? In, Peer);
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        string[] peerNetns = PeerIn is null ? [] : ["netns", context.Target(PeerIn).NetnsArgument];
        return context.DoAsync(t.Ip(["link", "add", "name", Name, "type", "veth", "peer", "name", Peer, .. peerNetns]), ActionExecutor.DeleteLink(t, Name), ct);
    }

    public override async Task<IReadOnlyList<string>> HostClashesAsync(IHostProbe host, CancellationToken ct)
    {
        if (ExpectedError is not null) return [];
        var clashes = new List<string>();
        if (In.Kind == PlaceKind.Host && await host.LinkExistsAsync(Name, ct)) clashes.Add($"link {Name} ({Span})");
        if ((PeerIn ?? In).Kind == PlaceKind.Host && await host.LinkExistsAsync(Peer, ct)) clashes.Add($"link {Peer} ({Span})");
        return clashes;
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>ip link add NAME type veth peer name PEER [netns PEERIN]</c> (YAML <c>veth-add</c>); <c>.In(x)</c> creates it in x.</summary>
    public static ActionClause Veth(this StepBuilder step, string name, string peer, string? peerIn = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(VethAdd.Kind, file, line, ("name", name), ("peer", peer), ("peer-in", peerIn));
}
