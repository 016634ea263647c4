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
    public static readonly IReadOnlyList<string> Apps = ["http", "echo", "udp-echo"];

    /// <summary>How long a server may take to listen on its port.</summary>
    private static readonly TimeSpan ListenTimeout = TimeSpan.FromSeconds(5);

    public static readonly ActionKind Kind = new("serve", "a server in a place: busybox httpd with a page, a TCP echo (busybox nc) or a UDP echo (socat)",
        [
            new("app", FieldType.Choice, "http (busybox httpd serving 'page' as /index.html), echo (TCP: sends back what it gets) or udp-echo (UDP: answers each datagram with it)", Required: true) { Choices = [.. Apps] },
            new("port", FieldType.Integer, "the port it listens on, e.g. 80", Required: true),
            new("page", FieldType.Text, "http: the text of /index.html (default: 'served by PLACE')"),
            FieldSpec.In,
        ],
        r =>
        {
            var app = r.Choice("app", Apps, "unknown app '{0}'", "use http, echo or udp-echo", required: true);
            var port = r.Int("port", 1, 65535, required: true);
            var page = r.Text("page");
            if (page is not null && app is "echo" or "udp-echo") r.Error(r.SpanOf("page"), "'page' is for app: http", "an echo server sends back what it gets; remove 'page'");
            return app is null || port is null ? null : new Serve(app, port.Value, page, r.PlaceOf());
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
                await File.WriteAllTextAsync(Path.Combine(root, "index.html"), context.Session.Expand(Page ?? $"served by {In.Name}") + "\n", ct);
            }
            server = ["busybox", "httpd", "-f", "-p", port, "-h", root];
        }
        else if (App == "echo") server = ["busybox", "nc", "-ll", "-p", port, "-e", "cat"];
        else server = ["socat", $"UDP-LISTEN:{port},fork,reuseaddr", "EXEC:cat"]; // a child per peer, labelled like its parent

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
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>A server in a place (YAML <c>serve</c>): <c>"http"</c> (busybox httpd with <paramref name="page"/>) or <c>"echo"</c> (TCP); stopped at teardown.</summary>
    public static ActionClause Serve(this StepBuilder step, string app, int port, string? page = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(Model.Serve.Kind, file, line, ("app", app), ("port", port), ("page", page));
}
