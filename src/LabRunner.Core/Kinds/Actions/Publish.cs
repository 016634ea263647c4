using System.Globalization;
using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// What <c>docker run -p PORT:TO-PORT</c> does on the host, as iptables rules: a connection to any local address of
/// the host on PORT is sent on to TO:TO-PORT (nat PREROUTING DNAT, and nat OUTPUT for connections the host itself
/// makes, as Docker does), and FORWARD lets it through and its replies back (inserted first: the article's host has
/// FORWARD DROP). Sugar for four <c>iptables-rule</c>s: `plan` shows the real rules, teardown deletes exactly them.
/// </summary>
public sealed record Publish(int Port, string To, int ToPort, string Protocol, Place In) : LabAction
{
    public static readonly IReadOnlyList<string> Protocols = ["tcp", "udp"];

    public static readonly ActionKind Kind = new("publish", "host port PORT -> TO:TO-PORT (DNAT and FORWARD, as docker run -p)",
        [
            new("port", FieldType.Integer, "the host's port, e.g. 8080", Required: true),
            new("to", FieldType.Ipv4, "the address connections are sent on to (a container's), e.g. 172.16.100.101", Required: true),
            new("to-port", FieldType.Integer, "the port there (default: the same port)"),
            new("protocol", FieldType.Choice, "tcp (the default) or udp") { Choices = [.. Protocols] },
            FieldSpec.In,
        ],
        r =>
        {
            var port = r.Int("port", 1, 65535, required: true);
            var to = r.Ip("to", required: true);
            var toPort = r.Int("to-port", 1, 65535) ?? port;
            var protocol = r.Choice("protocol", Protocols, "unknown protocol '{0}'", "use tcp or udp", fallback: "tcp")!;
            return port is null || to is null || toPort is null ? null : new Publish(port.Value, to, toPort.Value, protocol, r.PlaceOf());
        },
        rank: 157);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => [new("iptables", "iptables")];

    /// <summary>The rules, in the order they are added: (table, chain, rule after the chain, insert first).</summary>
    public IReadOnlyList<(string Table, string Chain, IReadOnlyList<string> Rule, bool Insert)> Rules
    {
        get
        {
            string port = Port.ToString(CultureInfo.InvariantCulture), toPort = ToPort.ToString(CultureInfo.InvariantCulture);
            var destination = $"{To}:{toPort}";
            return
            [
                ("nat", "PREROUTING", ["-p", Protocol, "-m", "addrtype", "--dst-type", "LOCAL", "--dport", port, "-j", "DNAT", "--to-destination", destination], false),
                ("nat", "OUTPUT", ["-p", Protocol, "!", "-d", "127.0.0.0/8", "-m", "addrtype", "--dst-type", "LOCAL", "--dport", port, "-j", "DNAT", "--to-destination", destination], false),
                ("filter", "FORWARD", ["-d", To, "-p", Protocol, "--dport", toPort, "-j", "ACCEPT"], true),
                ("filter", "FORWARD", ["-s", To, "-p", Protocol, "--sport", toPort, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"], true),
            ];
        }
    }

    public override void Apply(HostModel host) => host.Namespace(In);

    public override async Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        CommandOutcome outcome = null!;
        foreach (var (table, chain, rule, insert) in Rules)
        {
            outcome = await IptablesRule.AddAsync(context, t, table, chain, rule, insert, ct);
            if (!outcome.Succeeded) return outcome; // the rules added so far are journalled: teardown removes them
        }
        return outcome;
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>
    /// Publishes <paramref name="port"/> of the host on <paramref name="to"/>:<paramref name="toPort"/> (YAML <c>publish</c>),
    /// as <c>docker run -p</c>: DNAT and the FORWARD rules; deleted at teardown.
    /// </summary>
    public static ActionClause Publish(this StepBuilder step, int port, string to, int? toPort = null, string protocol = "tcp",
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(Model.Publish.Kind, file, line, ("port", port), ("to", to), ("to-port", toPort), ("protocol", protocol));
}
