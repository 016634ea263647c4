using System.Runtime.CompilerServices;
using System.Globalization;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// <c>ip link add NAME type vxlan id ID [remote IP] [local IP] [dev DEV] dstport PORT</c>: a VXLAN tunnel end for
/// cross-host labs (an L2 overlay over the hosts' underlay network).
/// </summary>
public sealed record VxlanAdd(string Name, int Id, string? Remote, string? Local, string? Dev, int Port, Place In) : LabAction
{
    /// <summary>The IANA port for VXLAN (Linux's own default, 8472, is the pre-standard one).</summary>
    public const int DefaultPort = 4789;

    public static readonly ActionKind Kind = new("vxlan-add", "ip link add NAME type vxlan id ID [remote IP] [local IP] [dev DEV] dstport PORT",
        [
            new("name", FieldType.Interface, "the tunnel end", Required: true),
            new("id", FieldType.Integer, "the VXLAN network identifier, the same on every host", Required: true) { Min = 1, Max = 16777215 },
            new("remote", FieldType.Ipv4, "the other host's underlay address"),
            new("local", FieldType.Ipv4, "this host's underlay address"),
            new("dev", FieldType.Interface, "the underlay link"),
            new("port", FieldType.Integer, $"the UDP port (default {DefaultPort})") { Min = 1, Max = 65535 },
            FieldSpec.In,
        ],
        r =>
        {
            var name = r.Interface("name", required: true);
            var id = r.Int("id", 1, 16777215, required: true, missingHint: "the VXLAN network identifier, 1 to 16777215, the same on every host");
            var remote = r.Ip("remote");
            var local = r.Ip("local");
            var dev = r.Interface("dev");
            var port = r.Int("port", 1, 65535) ?? DefaultPort;
            var place = r.PlaceOf(); // read even when something else is wrong: 'in' is a known key
            return name is null || id is null ? null : new VxlanAdd(name, id.Value, remote, local, dev, port, place);
        }, rank: 50);

    public override string Keyword => Kind.Keyword;

    public override void Apply(HostModel host)
    {
        if (host.Namespace(In) is not { } key) return;
        if (Dev is not null) host.Link(key, In, Dev); // the underlay link must be there
        if (!host.Fails) host.AddLink(key, In, Name, new ModelLink($"vxlan {Id}"));
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        string[] argv =
        [
            "link", "add", "name", Name, "type", "vxlan", "id", Id.ToString(CultureInfo.InvariantCulture),
            .. Remote is null ? [] : new[] { "remote", Remote }, .. Local is null ? [] : new[] { "local", Local },
            .. Dev is null ? [] : new[] { "dev", Dev }, "dstport", Port.ToString(CultureInfo.InvariantCulture),
        ];
        return context.DoAsync(t.Ip(argv), ActionExecutor.DeleteLink(t, Name), ct);
    }

    public override Task<IReadOnlyList<string>> HostClashesAsync(IHostProbe host, CancellationToken ct) => NewLinkClashesAsync(host, In, Name, ct);
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>
    /// <c>ip link add NAME type vxlan id ID [remote R] [local L] [dev DEV] dstport PORT</c> (YAML <c>vxlan-add</c>):
    /// a VXLAN tunnel end for cross-host labs.
    /// </summary>
    public static ActionClause Vxlan(this StepBuilder step, string name, int id, string? remote = null, string? local = null, string? dev = null, int port = VxlanAdd.DefaultPort,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(VxlanAdd.Kind, file, line, ("name", name), ("id", id), ("remote", remote), ("local", local), ("dev", dev), ("port", port));
}
