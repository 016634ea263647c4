using System.Globalization;
using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// A TCP connection from a place to ADDRESS:PORT, and how it ends: <c>connected</c>, <c>refused</c> (nothing listens
/// there, or a REJECT), <c>timed-out</c> (dropped on the way: a DROP, a policy) or <c>unreachable</c> (no route, or an
/// ICMP unreachable). Told apart from what busybox nc says, so a lab can show that a policy drops while a closed port
/// refuses. With <c>send</c>, that text is sent once connected; with <c>receive</c>, what comes back must contain it.
/// With <c>protocol: udp</c>, one datagram (<c>send</c>, or a line of its own) and its answer, with socat (busybox nc
/// has no UDP here): <c>connected</c> when an answer comes back, <c>refused</c> when an ICMP port unreachable does,
/// <c>timed-out</c> when nothing does within 2 s (dropped, or a server that does not answer).
/// </summary>
public sealed partial record ConnectExpectation(Place From, string To, int Port, string Result, string? Send, string? Receive) : Expectation
{
    public static readonly IReadOnlyList<string> Results = ["connected", "refused", "timed-out", "unreachable"];

    public static readonly IReadOnlyList<string> Protocols = ["tcp", "udp"];

    /// <summary>What a UDP probe sends when the lab gives no <c>send</c>: a datagram needs a payload to be sent at all.</summary>
    public const string UdpProbe = "labrunner\n";

    /// <summary>tcp (busybox nc) or udp (socat).</summary>
    public string Protocol { get; init; } = "tcp";

    public static readonly ExpectationKind Kind = new("connect", "a TCP connection (or a UDP exchange) from a place to ADDRESS:PORT: connected, refused, timed-out or unreachable",
        [
            new("from", FieldType.Place, "the host, netns or container that connects", Required: true),
            new("to", FieldType.PingTarget, "an IPv4 or IPv6 address, or ${uplink.ip}", Required: true),
            new("port", FieldType.Integer, "the port", Required: true),
            new("result", FieldType.Choice, "how it must end (default connected)") { Choices = [.. Results] },
            new("protocol", FieldType.Choice, "tcp (the default; busybox nc) or udp (one datagram and its answer; socat)") { Choices = [.. Protocols] },
            new("send", FieldType.Text, "text sent once connected"),
            new("receive", FieldType.Text, "text what comes back must contain (e.g. an echo server's answer)"),
            CommonFields.Why,
        ],
        r =>
        {
            var from = r.OptionalPlace("from");
            if (from is null) r.Error(r.Span, "'from' is missing", "name the host, netns or container that connects");
            var to = r.Target("to", ipv6: true);
            var port = r.Int("port", 1, 65535, required: true);
            var result = r.Choice("result", Results, "unknown result '{0}'", "use connected, refused, timed-out or unreachable", fallback: "connected")!;
            var protocol = r.Choice("protocol", Protocols, "unknown protocol '{0}'", "use tcp or udp", fallback: "tcp")!;
            var send = r.Text("send");
            var receive = r.Text("receive");
            if (receive is not null && result != "connected")
                r.Error(r.SpanOf("receive"), "'receive' needs a connection", "remove 'receive', or expect 'result: connected'");
            var why = CommonFields.ReadWhy(r);
            if (!why.IsEmpty && result == "connected")
                r.Error(r.SpanOf("why"), "'why' explains an expected failure", "expect 'result: refused', 'timed-out' or 'unreachable', or remove 'why'");
            return from is null || to is null || port is null ? null : new ConnectExpectation(from, to, port.Value, result, send, receive) { Why = why, Protocol = protocol };
        }, rank: 15);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => Protocol == "udp" ? [new("socat", "socat")] : [new("busybox", "busybox-static")];

    public override string Describe() =>
        $"{Protocol.ToUpperInvariant()} from {From.Name} to {To}:{Port} {(Result == "connected" ? "connects" : "is " + Result)}" + (Receive is null ? "" : $" and gets back \"{Receive}\"") +
        (Why.IsEmpty ? "" : $", explained by {string.Join(", ", Why)}");

    public override IEnumerable<string?> Templated => [To, Send, Receive];

    public override void Check(HostModel host) => host.Namespace(From);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var session = context.Session;
        var outcome = await ConnectAsync(context, Send, ct);
        var observed = Protocol == "udp" ? ClassifyUdp(outcome) : Classify(outcome);
        var receive = Receive is null ? null : session.Expand(Receive);
        var got = outcome.Stdout.Trim().ReplaceLineEndings(" | ");
        var held = observed == Result && (receive is null || outcome.Stdout.Contains(receive, StringComparison.Ordinal));
        return (held, observed + (got.Length > 0 ? $", got back \"{(got.Length > 200 ? got[..200] + "..." : got)}\"" : "") +
            (observed is "connected" ? "" : $" ({outcome.Error})"));
    }

    /// <summary>One attempt: busybox nc in the place, <paramref name="send"/> on its standard input (UDP: socat, from outside, in the place's netns).</summary>
    private Task<CommandOutcome> ConnectAsync(ObserveContext context, string? send, CancellationToken ct)
    {
        var session = context.Session;
        if (Protocol == "udp")
        {
            // socat -T 2: the answer may take 2 s; an IPv6 address goes in brackets. The host's socat, entering the place's netns.
            var to = session.Expand(To);
            string[] exchange = ["timeout", "-s", "KILL", "6", "sh", "-c", "printf %s \"$1\" | socat -T 2 - \"UDP:$2:$3\"", "sh",
                send is null ? UdpProbe : session.Expand(send), to.Contains(':') ? $"[{to}]" : to, Port.ToString(CultureInfo.InvariantCulture)];
            return context.CheckAsync(context.Target(From).Exec(exchange), ct);
        }
        // nc -w 2: connect timeout and last-read timeout; timeout -s KILL bounds a server that never closes.
        string[] connect = ["timeout", "-s", "KILL", "6", "sh", "-c", "printf %s \"$1\" | busybox nc -w 2 \"$2\" \"$3\"", "sh",
            session.Expand(send ?? ""), session.Expand(To), Port.ToString(CultureInfo.InvariantCulture)];
        return context.Places.BusyboxAsync(From, connect, CommandPurpose.Check, ct);
    }

    /// <summary>
    /// A connection that did not connect (expected to, or expected not to with a <c>why</c>) is looked at along its path
    /// and at its port; the probe tries once more (sending nothing) while counters are read.
    /// </summary>
    public override async Task<IReadOnlyList<Engine.Diagnosis.Finding>> DiagnoseAsync(ObserveContext context, bool held, CancellationToken ct) =>
        held != (Result == "connected")
            ? await context.Diagnosis.DiagnoseAsync(new Engine.Diagnosis.DiagnosisProbe(From, To, Protocol, Port, ResendAsync: c => ConnectAsync(context, null, c)), ct)
            : [];

    /// <summary>How busybox nc's attempt ended, from its message (exit 137: killed while connected, by the bound above).</summary>
    public static string Classify(CommandOutcome outcome) =>
        outcome.Stderr switch
        {
            var e when e.Contains("Connection refused", StringComparison.Ordinal) => "refused",
            var e when e.Contains("timed out", StringComparison.Ordinal) => "timed-out",
            var e when e.Contains("No route to host", StringComparison.Ordinal) || e.Contains("unreachable", StringComparison.Ordinal) => "unreachable",
            _ when outcome.ExitCode is 0 or 137 => "connected",
            _ => $"failed (exit {outcome.ExitCode})",
        };
}

public sealed partial record ConnectExpectation
{
    /// <summary>How socat's UDP exchange ended: an answer, an ICMP port unreachable ("Connection refused"), nothing within -T.</summary>
    public static string ClassifyUdp(CommandOutcome outcome) =>
        outcome.Stderr switch
        {
            var e when e.Contains("Connection refused", StringComparison.Ordinal) => "refused",
            var e when e.Contains("No route to host", StringComparison.Ordinal) || e.Contains("unreachable", StringComparison.Ordinal) => "unreachable",
            _ when outcome.ExitCode == 0 && outcome.Stdout.Length > 0 => "connected",
            _ when outcome.ExitCode == 0 => "timed-out",
            _ => $"failed (exit {outcome.ExitCode})",
        };
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>A TCP connection from a place to <paramref name="to"/>:<paramref name="port"/> (YAML <c>connect</c>) ends as <paramref name="result"/>.</summary>
    /// <param name="why">diagnosis classes that must explain a failing <paramref name="result"/> (YAML <c>why</c>), e.g. ["not-listening"].</param>
    public static ExpectClause Connect(this ExpectationPicker expect, string from, string to, int port, string result = "connected", string? send = null,
        string? receive = null, IEnumerable<string>? why = null, string protocol = "tcp", [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(ConnectExpectation.Kind, file, line, ("from", from), ("to", to), ("port", port), ("result", result), ("send", send), ("receive", receive),
            ("why", why?.ToList()), ("protocol", protocol));
}
