using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// CNI CHECK of an attachment a <c>cni-add</c> made: each plugin of the network in order, with the cached result as
/// <c>prevResult</c> (as libcni does; CHECK needs cniVersion 0.4.0 or later). Holds when every plugin agrees, or, with
/// <c>error</c>, when a plugin reports an error containing that text (after the lab broke what ADD made, say).
/// </summary>
public sealed record CniCheckExpectation(string Network, string? NetworkFile, string Ifname, Place In, string? Error) : Expectation
{
    public static readonly ExpectationKind Kind = new("cni-check", "CNI CHECK: the network's plugins find what ADD made (or report the error given)",
        [.. Cni.Fields, new("error", FieldType.Text, "expect CHECK to fail with an error containing this text")],
        r =>
        {
            var common = Cni.Read(r);
            var error = r.Text("error");
            if (common is { } c && JsonNode.Parse(c.Network)!["cniVersion"]?.GetValue<string>() is "0.3.0" or "0.3.1")
                r.Error(r.SpanOf(c.File is null ? "network" : "network-file"), "CNI CHECK needs cniVersion 0.4.0 or later", "use cniVersion 1.0.0 (or 0.4.0)");
            return common is { } n ? new CniCheckExpectation(n.Network, n.File, n.Ifname, n.In, error) : null;
        }, rank: 125);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => Cni.ToolsOf(Network);

    public override IEnumerable<string?> Templated => [Error];

    private string NetworkName => JsonNode.Parse(Network)!["name"]!.GetValue<string>();

    public override string Describe() =>
        $"CNI CHECK of network {NetworkName} for {Ifname} in {In} {(Error is null ? "passes" : $"fails with '{Error}'")}";

    public override void Check(HostModel host)
    {
        if (host.Namespace(In) is null) return;
        if (!host.HasCniAttachment(In, Ifname))
            host.Error($"no cni-add gave {In} the interface '{Ifname}' before this point", "CHECK looks at what a cni-add made: add one in an earlier step");
    }

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var net = JsonNode.Parse(Network)!.AsObject();
        var a = Cni.Attachment.Of(context.Session, context.StateDirectory, context.Runner.IsDryRun, In, Ifname, net);
        JsonNode? cached;
        if (context.Runner.IsDryRun) cached = JsonValue.Create("<cached result of ADD>");
        else
        {
            if (!File.Exists(a.ResultPath)) return (false, $"no cached result of ADD for this network ({a.ResultPath})");
            try { cached = JsonNode.Parse(await File.ReadAllTextAsync(a.ResultPath, ct)); }
            catch (JsonException e) { return (false, $"the cached result {a.ResultPath} is not JSON: {e.Message}"); }
        }
        var expected = Error is null ? null : context.Session.Expand(Error);
        foreach (var plugin in Cni.Plugins(net))
        {
            var type = (string)plugin["type"]!;
            var outcome = await context.Runner.RunAsync(a.Argv("CHECK", type), CommandPurpose.Check, Cni.Config(net, plugin, a.HostLocalParent, cached), ct);
            if (outcome.Succeeded) continue;
            var failure = Cni.Failure(type, outcome).Stderr;
            return (expected is not null && failure.Contains(expected, StringComparison.Ordinal), failure);
        }
        return (expected is null, "CHECK passed");
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>
    /// CNI CHECK (YAML <c>cni-check</c>) of the attachment a <c>CniAdd</c> made in the place (<c>.In("busybox-1")</c>):
    /// passes, or with <paramref name="error"/> fails with an error containing that text.
    /// </summary>
    public static ExpectClause CniCheck(this ExpectationPicker expect, string? network = null, string? networkFile = null, string? ifname = null,
        string? error = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(CniCheckExpectation.Kind, file, line, ("network", network), ("network-file", networkFile), ("ifname", ifname), ("error", error));
}
