using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// An HTTP GET from a place (busybox wget): the status the server answers (the last one, after redirects), and text
/// the body must contain. A request that gets no answer at all does not hold, whatever status was expected.
/// </summary>
public sealed partial record HttpExpectation(Place From, string Url, int Status, string? BodyContains) : Expectation
{
    public static readonly ExpectationKind Kind = new("http", "an HTTP GET from a place: the status, and text the body contains",
        [
            new("from", FieldType.Place, "the host, netns or container that asks", Required: true),
            new("url", FieldType.Text, "http://ADDRESS[:PORT]/PATH; may use ${uplink.ip}", Required: true),
            new("status", FieldType.Integer, "the status it must answer (default 200)") { Min = 100, Max = 599 },
            new("body-contains", FieldType.Text, "text the body must contain"),
            new("succeeds", FieldType.Boolean, "false: the GET must get no answer at all (refused, timed out, unreachable; default true)"),
            CommonFields.Why,
        ],
        r =>
        {
            var from = r.OptionalPlace("from");
            if (from is null) r.Error(r.Span, "'from' is missing", "name the host, netns or container that asks");
            var url = r.Text("url", required: true);
            if (url is not null && !url.StartsWith("http://", StringComparison.Ordinal))
                r.Error(r.SpanOf("url"), $"'{url}' is not an http:// URL", "write it as http://172.16.100.101:80/ (busybox wget speaks plain HTTP)");
            var status = r.Int("status", 100, 599) ?? 200;
            var contains = r.Text("body-contains");
            var succeeds = r.Bool("succeeds") ?? true;
            if (!succeeds && (r.Has("status") || contains is not null))
                r.Error(r.SpanOf(r.Has("status") ? "status" : "body-contains"), "a GET that gets no answer has no status or body",
                    "remove 'status' and 'body-contains', or expect it to succeed");
            var why = CommonFields.ReadWhy(r);
            if (!why.IsEmpty && succeeds)
                r.Error(r.SpanOf("why"), "'why' explains an expected failure", "add 'succeeds: false', or remove 'why' (a failed GET is explained anyway)");
            return from is null || url is null ? null : new HttpExpectation(from, url, status, contains) { Succeeds = succeeds, Why = why };
        }, rank: 16);

    /// <summary>False: the GET must get no answer at all (nothing listens, a DROP, no route).</summary>
    public bool Succeeds { get; init; } = true;

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => [new("busybox", "busybox-static")];

    public override string Describe() =>
        (Succeeds ? $"GET {Url} from {From.Name} answers {Status}" + (BodyContains is null ? "" : $" with \"{BodyContains}\"") : $"GET {Url} from {From.Name} gets no answer") +
        (Why.IsEmpty ? "" : $", explained by {string.Join(", ", Why)}");

    public override IEnumerable<string?> Templated => [Url, BodyContains];

    public override void Check(HostModel host) => host.Namespace(From);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var url = context.Session.Expand(Url);
        string[] get = ["timeout", "-s", "KILL", "6", "busybox", "wget", "-S", "-O", "-", url];
        var outcome = await context.Places.BusyboxAsync(From, get, CommandPurpose.Check, ct);
        var statuses = StatusLine().Matches(outcome.Stderr);
        if (statuses.Count == 0) return (!Succeeds, $"no answer: {outcome.Error}");
        if (!Succeeds) return (false, $"answered {statuses[^1].Groups[1].Value}");
        var status = int.Parse(statuses[^1].Groups[1].Value, CultureInfo.InvariantCulture);
        var contains = BodyContains is null ? null : context.Session.Expand(BodyContains);
        var body = outcome.Stdout.Trim().ReplaceLineEndings(" | ");
        return (status == Status && (contains is null || outcome.Stdout.Contains(contains, StringComparison.Ordinal)),
            $"{status}, body \"{(body.Length > 200 ? body[..200] + "..." : body)}\"");
    }

    /// <summary>
    /// A GET that got no answer (expected one, or expected none with a <c>why</c>) is looked at as a TCP connection to the
    /// URL's address and port; the probe is one connection attempt (busybox nc) while counters are read.
    /// </summary>
    public override async Task<IReadOnlyList<Engine.Diagnosis.Finding>> DiagnoseAsync(ObserveContext context, bool held, CancellationToken ct)
    {
        if (held == Succeeds || Endpoint(context.Session.Expand(Url)) is not { } endpoint) return [];
        string[] connect = ["timeout", "-s", "KILL", "4", "busybox", "nc", "-w", "2", endpoint.Host, endpoint.Port.ToString(CultureInfo.InvariantCulture)];
        return await context.Diagnosis.DiagnoseAsync(new Engine.Diagnosis.DiagnosisProbe(From, endpoint.Host, "tcp", endpoint.Port,
            ResendAsync: c => context.Runner.RunAsync(context.Target(From).Exec(connect), CommandPurpose.Check, c)), ct);
    }

    /// <summary>The address and port of an http:// URL (80 when none is given), or null.</summary>
    public static (string Host, int Port)? Endpoint(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http") return null;
        return (uri.Host, uri.Port);
    }

    /// <summary>A status line as wget -S shows the server's response: "  HTTP/1.1 200 OK".</summary>
    [GeneratedRegex(@"^\s*HTTP/\d(?:\.\d)?\s+(\d{3})", RegexOptions.Multiline)]
    private static partial Regex StatusLine();
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>An HTTP GET from a place (YAML <c>http</c>) answers <paramref name="status"/>, its body containing <paramref name="bodyContains"/>.</summary>
    /// <param name="succeeds">false: the GET must get no answer at all (then no status or body).</param>
    /// <param name="why">diagnosis classes that must explain a GET expected to get no answer (YAML <c>why</c>), e.g. ["not-listening"].</param>
    public static ExpectClause Http(this ExpectationPicker expect, string from, string url, int status = 200, string? bodyContains = null,
        bool succeeds = true, IEnumerable<string>? why = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(HttpExpectation.Kind, file, line, ("from", from), ("url", url), ("status", succeeds ? status : null), ("body-contains", bodyContains),
            ("succeeds", succeeds ? null : false), ("why", why?.ToList()));
}
