using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Kinds;
using LabRunner.Runtimes;

namespace LabRunner.Model;

/// <summary>
/// A server in a place, for the curriculum's L4 labs: busybox httpd with a page of the lab's (<c>http</c>), a TCP echo
/// (<c>echo</c>: busybox nc, every connection gets its bytes back), or a UDP echo (<c>udp-echo</c>: socat, every
/// datagram answered with its bytes; busybox nc has no UDP in Debian's build). It runs in the place's network namespace, started
/// from the host (so a container's own filesystem is not needed), and is a process the lab started: labelled
/// (LABRUNNER_CONTAINER=ID/serve-PLACE-PORT) and journalled before it starts, like a container, so teardown and
/// <c>labrunner clean</c> stop it even after a crash. The action holds once the port is listening.
/// </summary>
public sealed record Serve(string App, int Port, string? Page, Place In) : LabAction
{
    /// <summary>http: the page's size in bytes, filler lines before its text (null: the text alone).</summary>
    public int? PageSize { get; init; }

    /// <summary>The largest page-size: 64 MiB, a transfer of minutes on a slow link, written once into the state directory.</summary>
    public const int MaxPageSize = 64 << 20;

    public static readonly IReadOnlyList<string> Apps = ["http", "echo", "udp-echo"];

    /// <summary>How long a server may take to listen on its port.</summary>
    private static readonly TimeSpan ListenTimeout = TimeSpan.FromSeconds(5);

    public static readonly ActionKind Kind = new("serve", "a server in a place: busybox httpd with a page, a TCP echo (busybox nc) or a UDP echo (socat)",
        [
            new("app", FieldType.Choice, "http (busybox httpd serving 'page' as /index.html), echo (TCP: sends back what it gets) or udp-echo (UDP: answers each datagram with it)", Required: true) { Choices = [.. Apps] },
            new("port", FieldType.Integer, "the port it listens on, e.g. 80", Required: true),
            new("page", FieldType.Text, "http: the text of /index.html (default: 'served by PLACE')"),
            new("page-size", FieldType.Integer, "http: make the page this many bytes, filler lines before its text (which comes last): a big page for a timed transfer") { Min = 1, Max = MaxPageSize },
            FieldSpec.In,
        ],
        r =>
        {
            var app = r.Choice("app", Apps, "unknown app '{0}'", "use http, echo or udp-echo", required: true);
            var port = r.Int("port", 1, 65535, required: true);
            var page = r.Text("page");
            var size = r.Int("page-size", 1, MaxPageSize);
            if (page is not null && app is "echo" or "udp-echo") r.Error(r.SpanOf("page"), "'page' is for app: http", "an echo server sends back what it gets; remove 'page'");
            if (size is not null && app is "echo" or "udp-echo") r.Error(r.SpanOf("page-size"), "'page-size' is for app: http", "an echo server sends back what it gets; remove 'page-size'");
            return app is null || port is null ? null : new Serve(app, port.Value, page, r.PlaceOf()) { PageSize = size };
        },
        rank: 175);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => [App == "udp-echo" ? new("socat", "socat") : new("busybox", "busybox-static"), new("ss", "iproute2")];

    public override IEnumerable<string?> Templated => [Page];

    public override void Apply(HostModel host) => host.Namespace(In);

    public override async Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        var port = Port.ToString(CultureInfo.InvariantCulture);
        var label = $"{context.Session.LabId}/serve-{In.Name}-{port}";
        string[] server;
        if (App == "http")
        {
            // The page lives in the lab's state directory, removed with it.
            var root = Path.Combine(context.Journal.Directory ?? (context.IsDryRun ? "<lab state dir>" : Path.GetTempPath()), $"serve-{In.Name}-{port}");
            if (!context.IsDryRun)
            {
                Directory.CreateDirectory(root);
                await File.WriteAllTextAsync(Path.Combine(root, "index.html"), PageText(context.Session.Expand(Page ?? $"served by {In.Name}"), PageSize), ct);
            }
            server = ["busybox", "httpd", "-f", "-p", port, "-h", root];
        }
        else if (App == "echo") server = ["busybox", "nc", "-ll", "-p", port, "-e", "cat"];
        // A child per peer, labelled like its parent; on :: with ipv6only=0, so IPv4 and IPv6 peers alike (also where a
        // place has IPv6 turned off: the socket is still made, and IPv4 reaches it mapped).
        else server = ["socat", $"UDP6-LISTEN:{port},fork,reuseaddr,ipv6only=0", "EXEC:cat"];

        // Write-ahead, as for a container: the undo finds the server (and what it forked) by its label.
        context.Journal.Append(new UndoRemoveContainer($"stop the {App} server on port {port} in {In}", "process", label) { Resource = ResourceRef.ForServer(label) });
        var command = await context.Runner.StartAsync(t.Exec(server), CommandPurpose.Action,
            new BackgroundStart(null) { Environment = new Dictionary<string, string> { [ProcessRuntime.LabelVariable] = label } }, ct);
        if (context.IsDryRun) return new CommandOutcome(0, "", "", TimeSpan.Zero);

        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < ListenTimeout)
        {
            var listening = await context.CheckAsync(t.Exec("ss", App == "udp-echo" ? "-Hlun" : "-Hltn", "sport", "=", $":{port}"), ct);
            if (listening.Succeeded && listening.Stdout.Trim().Length > 0)
                return new CommandOutcome(0, $"listening on port {port}", "", watch.Elapsed);
            await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
        }
        var stopped = await command.StopAsync();
        return new CommandOutcome(stopped.ExitCode == 0 ? 1 : stopped.ExitCode, "",
            $"the {App} server did not listen on port {port} within {ListenTimeout.TotalSeconds:0} s{(stopped.Error.Trim() is { Length: > 0 } e ? ": " + e : "")}", watch.Elapsed);
    }

    /// <summary>
    /// /index.html: the text and a newline, after as many filler lines (64 bytes each, the last one shorter) as make it
    /// <paramref name="size"/> bytes; a text as long as that or longer is the page alone. The text comes last, so a body
    /// that holds it arrived whole.
    /// </summary>
    public static string PageText(string text, int? size)
    {
        var page = text + "\n";
        var fill = (size ?? 0) - System.Text.Encoding.UTF8.GetByteCount(page);
        if (fill <= 0) return page;
        const string line = "filler of a page made big for a timed transfer, 64 bytes a line\n";
        var b = new System.Text.StringBuilder(size!.Value);
        for (; fill >= line.Length; fill -= line.Length) b.Append(line);
        if (fill > 0) b.Append('.', fill - 1).Append('\n');
        return b.Append(page).ToString();
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>A server in a place (YAML <c>serve</c>): <c>"http"</c> (busybox httpd with <paramref name="page"/>, padded to <paramref name="pageSize"/> bytes) or <c>"echo"</c> (TCP); stopped at teardown.</summary>
    public static ActionClause Serve(this StepBuilder step, string app, int port, string? page = null, int? pageSize = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(Model.Serve.Kind, file, line, ("app", app), ("port", port), ("page", page), ("page-size", pageSize));
}
