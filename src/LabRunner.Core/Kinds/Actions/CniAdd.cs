using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using LabRunner.Authoring;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Kinds;
using LabRunner.Loading;
using LabRunner.Platform;

namespace LabRunner.Model;

/// <summary>
/// CNI ADD, as a container runtime (libcni) does it: each plugin of a network (containernetworking-plugins, in
/// /usr/lib/cni) in order, run in the lab's host namespace with CNI_COMMAND=ADD, CNI_CONTAINERID, CNI_NETNS (the
/// place's namespace), CNI_IFNAME and CNI_PATH, its config on standard input with the network's <c>name</c> and
/// <c>cniVersion</c> and the previous plugin's result as <c>prevResult</c>. host-local's <c>dataDir</c> and the result
/// cache are in the lab's state directory. The undo (<see cref="UndoCni"/>: DEL, plugins in reverse, with the cached
/// result) is journalled before the first plugin runs. The result's addresses are placeholders for later steps:
/// <c>${PLACE.IFNAME.ip}</c>, <c>.cidr</c>, <c>.gateway</c>, <c>.mac</c>.
/// </summary>
public sealed record CniAdd(string Network, string? NetworkFile, string Ifname, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("cni-add", "CNI ADD: a network's plugins (/usr/lib/cni) give a container or netns an interface",
        Cni.Fields, r => Cni.Read(r) is { } n ? new CniAdd(n.Network, n.File, n.Ifname, n.In) : null, rank: 185);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => Cni.ToolsOf(Network);

    public override void Apply(HostModel host)
    {
        if (host.Namespace(In) is not { } key) return;
        var net = JsonNode.Parse(Network)!.AsObject();
        var first = Cni.Plugins(net).FirstOrDefault();
        if (first is null) return;
        var type = (string)first["type"]!;
        if (host.HasCniAttachment(In, Ifname))
        {
            host.Error($"{In} already has a CNI interface '{Ifname}'", "give this cni-add another 'ifname'");
            return;
        }
        if (host.Fails) return;
        // The interface the first (main) plugin makes, and for bridge its bridge on the host (made by the first cni-add).
        if (type == "bridge")
        {
            var bridge = (string?)first["bridge"] ?? "cni0";
            if (!host.LinksIn(HostModel.HostKey).Any(l => l.Name == bridge))
                host.AddLink(HostModel.HostKey, Place.Host, bridge, new ModelLink("bridge") { Up = true });
        }
        if (type is not "loopback") host.AddLink(key, In, Ifname, new ModelLink(type is "bridge" or "ptp" ? "veth" : type) { Up = true });
        host.AddCniAttachment(In, Ifname);
    }

    public override async Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var net = JsonNode.Parse(Network)!.AsObject();
        var a = Cni.Attachment.Of(context.Session, context.Journal.Directory, context.IsDryRun, In, Ifname, net);
        if (!context.IsDryRun)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(a.ResultPath)!);
            Directory.CreateDirectory(a.HostLocalParent);
        }
        // DEL leaves the bridge plugin's bridge: the lab deletes it if it made it (it is not the machine's with --host).
        if (Cni.Plugins(net).FirstOrDefault() is { } main && (string?)main["type"] == "bridge" &&
            ((string?)main["bridge"] ?? "cni0") is var bridge && context.Session.FirstTime($"cni bridge {bridge}"))
        {
            var there = context.IsDryRun ? null : await context.CheckAsync(a.Host.Ip("link", "show", "dev", bridge), ct);
            if (there is not { Succeeded: true }) context.Journal.Append(ActionExecutor.DeleteLink(a.Host, bridge));
        }
        // bridge (isGateway) and ptp turn on the host's forwarding and never turn it off: the lab puts the old value back
        // (the sandbox's goes with it anyway; with --host it is the machine's).
        foreach (var key in Cni.ForwardingSysctls(net))
        {
            if (!context.Session.FirstTime($"cni sysctl {key}")) continue;
            var read = a.Host.Exec("sysctl", "-n", key);
            var old = await context.CheckAsync(read, ct);
            if (!old.Succeeded) return old;
            var value = context.IsDryRun ? $"<old {key}>" : ObserveContext.Words(old.Stdout);
            context.Journal.Append(new UndoCommand($"restore {key}={value} in {a.Host.Label} (CNI {(string)Cni.Plugins(net).First()["type"]!} turns it on)",
                [.. a.Host.Exec("sysctl", "-w", $"{key}={value}")], GoneErrors.Namespace, new Verification(VerificationKind.FirstLineEquals, [.. read], value)));
        }
        // Write-ahead: DEL is owed from the moment the first plugin may have done something, whatever happens next.
        context.Journal.Append(a.Undo());

        JsonNode? previous = null;
        foreach (var plugin in Cni.Plugins(net))
        {
            var type = (string)plugin["type"]!;
            var config = Cni.Config(net, plugin, a.HostLocalParent, previous);
            var outcome = await context.Runner.RunAsync(a.Argv("ADD", type), CommandPurpose.Action, config, ct);
            if (!outcome.Succeeded) return Cni.Failure(type, outcome);
            if (context.IsDryRun)
            {
                previous = JsonValue.Create($"<result of {type} ADD>");
                continue;
            }
            try
            {
                previous = JsonNode.Parse(outcome.Stdout) as JsonObject;
            }
            catch (JsonException) { previous = null; }
            if (previous is null)
                return new CommandOutcome(1, "", $"{type} printed no result (a JSON object) on ADD: '{outcome.Stdout.Trim()}'", watch.Elapsed);
            // libcni caches the final result; caching each one means a later plugin's failure still gives DEL the result so far.
            Cni.WriteResult(a.ResultPath, previous.ToJsonString(Cni.Written));
        }

        var summary = Cni.Define(context.Session, In, Ifname, context.IsDryRun ? null : previous as JsonObject);
        return new CommandOutcome(0, summary, "", watch.Elapsed);
    }

    /// <summary>
    /// --host: the bridge a bridge-plugin network makes on the host (cni0 unless it names another), if the host has a link
    /// of that name already. The plugin would take it over as its own (even a link that is no bridge, or the machine's
    /// real cni0 of another runtime) and the lab could not tell its own bridge from it, so the run is refused. Reported
    /// even for a <c>fails-with</c> ADD: a plugin may make its bridge before it fails.
    /// </summary>
    public override async Task<IReadOnlyList<string>> HostClashesAsync(IHostProbe host, CancellationToken ct) =>
        Cni.Plugins(JsonNode.Parse(Network)!.AsObject()).FirstOrDefault() is { } main && (string?)main["type"] == "bridge" &&
        ((string?)main["bridge"] ?? "cni0") is var bridge && await host.LinkExistsAsync(bridge, ct)
            ? [$"link {bridge}, the bridge of CNI network {Cni.NetworkName(Network)} ({Span})"]
            : [];
}

/// <summary>
/// The CNI protocol as LabRunner speaks it (shared by <c>cni-add</c>, <c>cni-check</c> and the teardown of
/// <see cref="UndoCni"/>): reading a network, the plugins' argv and configs, their errors and results.
/// </summary>
public static partial class Cni
{
    [System.Text.RegularExpressions.GeneratedRegex(@"^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$")]
    private static partial System.Text.RegularExpressions.Regex CniName();

    public const string PluginDir = "/usr/lib/cni";

    /// <summary>JSON as written for plugins and shown in plans: '&lt;' and '+' as themselves, not \u escapes.</summary>
    internal static readonly JsonSerializerOptions Written = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public const string Package = "containernetworking-plugins";

    /// <summary>The spec versions containernetworking-plugins 1.1.1 speaks (CHECK needs 0.4.0 or later).</summary>
    public static readonly IReadOnlyList<string> Versions = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"];

    /// <summary>The plugins containernetworking-plugins 1.1.1 installs in /usr/lib/cni.</summary>
    public static readonly IReadOnlyList<string> Types =
    [
        "bandwidth", "bridge", "dhcp", "firewall", "host-device", "host-local", "ipvlan", "loopback", "macvlan", "portmap", "ptp", "sbr",
        "static", "tuning", "vlan", "vrf",
    ];

    /// <summary>The fields of <c>cni-add</c> and <c>cni-check</c>.</summary>
    internal static readonly System.Collections.Immutable.ImmutableArray<FieldSpec> Fields =
    [
        new("network", FieldType.Json, "the network inline: a conflist (cniVersion, name, plugins: [...]) or one plugin's config (cniVersion, name, type, ...)"),
        new("network-file", FieldType.Text, "or the network in a .conflist or .conf file (JSON), relative to the lab file"),
        new("ifname", FieldType.Interface, "the interface in the place (CNI_IFNAME; default eth0)"),
        new("in", FieldType.Place, "the container or netns (CNI_NETNS: /proc/PID/ns/net, /var/run/netns/NAME)", Required: true),
    ];

    internal static IEnumerable<Tool> ToolsOf(string network) =>
        Plugins(JsonNode.Parse(network)!.AsObject()).SelectMany(p => new[] { (string?)p["type"], (string?)p["ipam"]?["type"] }).OfType<string>()
            .Distinct().Select(type => new Tool($"{PluginDir}/{type}", Package));

    /// <summary>
    /// The forwarding sysctls a network's main plugin turns on in the host and leaves on: bridge with <c>isGateway</c> and
    /// ptp set <c>net.ipv4.ip_forward</c> (and <c>net.ipv6.conf.all.forwarding</c> for an IPv6 range).
    /// </summary>
    public static IEnumerable<string> ForwardingSysctls(JsonObject net)
    {
        if (Plugins(net).FirstOrDefault() is not { } main) yield break;
        var gateway = (string?)main["type"] switch
        {
            "ptp" => true,
            "bridge" => main["isGateway"] is JsonValue g && g.GetValueKind() == JsonValueKind.True,
            _ => false,
        };
        if (!gateway) yield break;
        var ipam = main["ipam"]?.ToJsonString() ?? "";
        var subnets = System.Text.RegularExpressions.Regex.Matches(ipam, "\"subnet\":\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        if (subnets.Count == 0 || subnets.Any(n => !n.Contains(':'))) yield return "net.ipv4.ip_forward";
        if (subnets.Any(n => n.Contains(':'))) yield return "net.ipv6.conf.all.forwarding";
    }

    /// <summary>A network's name (its conflist's <c>name</c>).</summary>
    public static string NetworkName(string network) => (string)JsonNode.Parse(network)!["name"]!;

    public static IEnumerable<JsonObject> Plugins(JsonObject conflist) => conflist["plugins"]!.AsArray().Select(p => p!.AsObject());

    /// <summary>The common fields: the network (inline or from a file, as a conflist's compact JSON), ifname and the place.</summary>
    internal static (string Network, string? File, string Ifname, Place In)? Read(FieldReader r)
    {
        var ifname = r.Interface("ifname") ?? "eth0";
        var inline = r.Json("network");
        var file = r.String("network-file");
        JsonObject? net = null;
        SourceSpan at = r.Span;
        if (inline is not null && file is not null)
            r.Error(r.SpanOf("network-file"), "give either 'network' or 'network-file', not both");
        else if (inline is null && file is null && !r.Has("network"))
            r.Error(r.Span, "'network' is missing", "give the network inline ('network: { cniVersion: 1.0.0, name: ..., plugins: [...] }') or 'network-file: FILE.conflist'");
        else if (inline is not null) (net, at) = (inline, r.SpanOf("network"));
        else if (file is not null)
        {
            at = r.SpanOf("network-file");
            var path = Path.IsPathRooted(file) ? file : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(at.File)) ?? ".", file);
            try
            {
                net = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
                if (net is null) r.Error(at, $"{file} does not hold a JSON object");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
            {
                r.Error(at, $"cannot read the network from {file}: {e.Message}", "give a .conflist or .conf file (JSON) relative to the lab file");
            }
        }
        var place = r.PlaceOf();
        if (place.Kind == PlaceKind.Host)
            r.Error(r.Has("in") ? r.SpanOf("in") : r.Span, "a CNI network is for a container or a netns, not the host",
                "add 'in: NAME' naming a container or netns of the lab");
        var conflist = net is null ? null : Conflist(net, at, r);
        return conflist is null ? null : (conflist.ToJsonString(Written), file, ifname, place);
    }

    /// <summary>A network as a conflist (one plugin's config becomes a list of one, as libcni's ConfListFromConf), checked.</summary>
    private static JsonObject? Conflist(JsonObject net, SourceSpan at, FieldReader r)
    {
        var ok = true;
        void Bad(string message, string? hint = null)
        {
            r.Error(at, message, hint);
            ok = false;
        }

        net = net.DeepClone().AsObject();
        if (!net.ContainsKey("plugins") && net.ContainsKey("type"))
        {
            var plugin = net.DeepClone().AsObject();
            plugin.Remove("name");
            plugin.Remove("cniVersion");
            net = new JsonObject { ["cniVersion"] = net["cniVersion"]?.DeepClone(), ["name"] = net["name"]?.DeepClone(), ["plugins"] = new JsonArray(plugin) };
        }
        if (net["name"] is not JsonValue nv || nv.GetValueKind() != JsonValueKind.String || !CniName().IsMatch((string)nv!))
            Bad("the network needs a 'name' (letters, digits, '_', '.', '-')", "e.g. 'name: lab-net'");
        if (net["cniVersion"] is not JsonValue vv || vv.GetValueKind() != JsonValueKind.String || !Versions.Contains((string)vv!))
            Bad($"the network needs a 'cniVersion' the plugins speak: {string.Join(", ", Versions)}",
                "e.g. 'cniVersion: 1.0.0' (quote it in YAML if it reads as a number: '0.4.0' is fine, '1.0' is not a version)");
        if (net["plugins"] is not JsonArray plugins || plugins.Count == 0)
        {
            Bad("the network needs 'plugins': a list of plugin configs, each with its 'type'", "e.g. 'plugins: [ { type: bridge, bridge: cni0, ipam: { type: host-local, subnet: 172.16.100.0/24 } } ]'");
            return null;
        }
        foreach (var p in plugins)
        {
            if (p is not JsonObject plugin || plugin["type"] is not JsonValue tv || tv.GetValueKind() != JsonValueKind.String)
            {
                Bad("each plugin of 'plugins' must be a mapping with its 'type'", "e.g. '{ type: bridge, ... }'");
                continue;
            }
            var type = (string)tv!;
            if (!Types.Contains(type))
                Bad($"unknown CNI plugin type '{type}'", Suggest.Nearest(type, Types) is { } near ? $"did you mean '{near}'?" : $"known: {string.Join(", ", Types)}");
            if (plugin["ipam"] is JsonObject { } ipam && (string?)ipam["type"] is { } ipamType && !Types.Contains(ipamType))
                Bad($"unknown IPAM plugin type '{ipamType}'", Suggest.Nearest(ipamType, Types) is { } near ? $"did you mean '{near}'?" : "e.g. host-local");
        }
        return ok ? net : null;
    }

    /// <summary>
    /// A plugin's config as libcni gives it: the plugin's own keys with the network's <c>name</c> and <c>cniVersion</c>
    /// and, when there is one, <c>prevResult</c>; host-local's <c>dataDir</c> is the lab's (any other is replaced).
    /// </summary>
    public static string Config(JsonObject conflist, JsonObject plugin, string hostLocalParent, JsonNode? prevResult)
    {
        var config = plugin.DeepClone().AsObject();
        config["name"] = conflist["name"]!.DeepClone();
        config["cniVersion"] = conflist["cniVersion"]!.DeepClone();
        if (prevResult is not null) config["prevResult"] = prevResult.DeepClone();
        if (config["ipam"] is JsonObject ipam && (string?)ipam["type"] == "host-local") ipam["dataDir"] = hostLocalParent;
        return config.ToJsonString(Written);
    }

    /// <summary>A plugin's failure: its error JSON (<c>{"code":N,"msg":"...","details":"..."}</c> on stdout) as one line.</summary>
    public static CommandOutcome Failure(string type, CommandOutcome outcome)
    {
        string text;
        try
        {
            var error = JsonNode.Parse(outcome.Stdout) as JsonObject;
            var msg = (string?)error?["msg"];
            text = msg is null
                ? $"{type}: {outcome.Error}"
                : $"{type}: {msg}{((string?)error!["details"] is { Length: > 0 } d ? $": {d}" : "")} (CNI error {error["code"]?.ToJsonString() ?? "?"})";
        }
        catch (JsonException)
        {
            text = $"{type}: {outcome.Error}";
        }
        if (outcome.ExitCode == 127) text += $" (is {Package} installed? apt-get install {Package})";
        return new CommandOutcome(outcome.ExitCode, "", text, outcome.Duration);
    }

    /// <summary>The result's first address and the like as placeholders; one line saying what the place got.</summary>
    internal static string Define(LabSession session, Place place, string ifname, JsonObject? result)
    {
        var prefix = $"{place.Name}.{ifname}";
        if (result is null)
        {
            foreach (var field in Templates.CniFields) session.Define($"{prefix}.{field}", $"<{prefix}.{field}>");
            return "";
        }
        var r = Result.Parse(result, ifname);
        if (r.Cidr is { } cidr)
        {
            session.Define($"{prefix}.cidr", cidr);
            session.Define($"{prefix}.ip", cidr.Split('/')[0]);
        }
        if (r.Gateway is { } gw) session.Define($"{prefix}.gateway", gw);
        if (r.Mac is { } mac) session.Define($"{prefix}.mac", mac);
        if (r.HostVeth is { } veth) session.Define($"{prefix}.host-veth", veth);
        return $"{ifname} in {place.Name}: {r.Cidr ?? "no address"}{(r.Gateway is null ? "" : $" via {r.Gateway}")}{(r.Mac is null ? "" : $", {r.Mac}")}";
    }

    /// <summary>
    /// What a result (0.3.x, 0.4.0 or 1.0.0) says about the interface in the container: its address (the one the result
    /// puts on it, else the first), gateway and MAC; and the host-side interfaces, in the result's order (bridge: the
    /// bridge, then the veth's host end; ptp: the host end; a chained bandwidth with an egress limit appends its ifb).
    /// </summary>
    public sealed record Result(string? Cidr, string? Gateway, string? Mac, IReadOnlyList<string> HostInterfaces)
    {
        /// <summary>
        /// The veth's host end: the last host interface listed before the container's own (a main plugin lists it just
        /// before; a later plugin's, such as bandwidth's ifb, comes after), else the last host interface.
        /// </summary>
        public string? HostVeth { get; init; }

        public static Result Parse(JsonObject result, string ifname)
        {
            var interfaces = (result["interfaces"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            var inside = interfaces.FindIndex(i => (string?)i["name"] == ifname && (string?)i["sandbox"] is { Length: > 0 });
            var ips = (result["ips"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            // The address on the interface in the container, else the first (a result may not say which interface).
            var ip = ips.FirstOrDefault(i => inside >= 0 && i["interface"] is JsonValue v && v.TryGetValue<int>(out var n) && n == inside) ?? ips.FirstOrDefault();
            var mac = inside >= 0 ? (string?)interfaces[inside]["mac"] : null;
            static List<string> OnHost(IEnumerable<JsonObject> list) =>
                [.. list.Where(i => (string?)i["sandbox"] is not { Length: > 0 }).Select(i => (string?)i["name"]).OfType<string>()];
            var host = OnHost(interfaces);
            var beforeInside = inside >= 0 ? OnHost(interfaces.Take(inside)) : host;
            return new Result((string?)ip?["address"], (string?)ip?["gateway"], mac, host) { HostVeth = beforeInside.Count > 0 ? beforeInside[^1] : host.LastOrDefault() };
        }
    }

    internal static void WriteResult(string path, string json)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, json);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>One attachment (a network, a place, an interface) resolved for a run: everything ADD, CHECK and DEL need.</summary>
    internal sealed record Attachment(NetTarget Host, string ContainerId, string NetnsPath, string Ifname, string ResultPath, string HostLocalParent,
        string NetworkName, string Network, string PlaceLabel, string? Pid, long? PidStart)
    {
        public static Attachment Of(LabSession session, string? stateDir, bool dryRun, Place place, string ifname, JsonObject net)
        {
            var state = Path.Combine(stateDir ?? "<lab state dir>", "cni");
            var id = Cni.ContainerId(session.LabId, place);
            string netns;
            string? pid = null;
            long? start = null;
            if (place.Kind == PlaceKind.Netns) netns = $"/var/run/netns/{session.PhysicalNetns(place.Name)}";
            else
            {
                pid = session.Container(place.Name).Pid;
                netns = $"/proc/{pid}/ns/net";
                if (!dryRun && int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var p)) start = Processes.StartTime(p);
            }
            var name = (string)net["name"]!;
            return new Attachment(session.Host, id, netns, ifname, Path.Combine(state, "results", $"{name}-{id}-{ifname}"), Path.Combine(state, "networks"),
                name, net.ToJsonString(Written), place.ToString(), pid, start);
        }

        /// <summary>The plugin's argv: in the lab's host namespace, the CNI_ variables set by env (so plans show them).</summary>
        public string[] Argv(string command, string type, string? netns = null) =>
        [
            .. Host.Exec("env", $"CNI_COMMAND={command}", $"CNI_CONTAINERID={ContainerId}", $"CNI_NETNS={netns ?? NetnsPath}", $"CNI_IFNAME={Ifname}",
                $"CNI_PATH={PluginDir}", $"{PluginDir}/{type}"),
        ];

        /// <summary>DEL of every plugin, in reverse order, with the configs (without prevResult) it needs.</summary>
        public UndoCni Undo()
        {
            var net = JsonNode.Parse(Network)!.AsObject();
            var calls = Plugins(net).Reverse().Select(p => new CniCall(Argv("DEL", (string)p["type"]!), Config(net, p, HostLocalParent, null))).ToArray();
            var hostLocal = Plugins(net).Any(p => (string?)p["ipam"]?["type"] == "host-local") ? Path.Combine(HostLocalParent, NetworkName) : null;
            return new UndoCni($"CNI DEL of network {NetworkName} for {Ifname} in {PlaceLabel}", calls, ResultPath, hostLocal, Pid, PidStart);
        }
    }

    /// <summary>CNI_CONTAINERID: stable for a lab and a place, and unique to the run (the lab id is).</summary>
    public static string ContainerId(string labId, Place place) => $"labrunner-{labId}-{place.Name}";

    /// <summary>Teardown and clean: DEL as <see cref="UndoCni"/> says; null when done, else what went wrong.</summary>
    public static async Task<string?> DeleteAsync(UndoCni undo, ICommandRunner runner, CancellationToken ct)
    {
        JsonNode? cached = null;
        if (runner.IsDryRun) cached = JsonValue.Create("<cached result of ADD>");
        else if (File.Exists(undo.ResultPath))
            try { cached = JsonNode.Parse(await File.ReadAllTextAsync(undo.ResultPath, ct)); }
            catch (JsonException) { cached = null; } // torn by a crash: DEL without it
        // A container's PID that is now another process's is not the lab's namespace: DEL releases on the host only.
        var foreign = !runner.IsDryRun && undo.NetnsPid is { } pid && int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var p) &&
                      Processes.StartTime(p) is var now && now != undo.NetnsPidStart;
        var problems = new List<string>();
        foreach (var call in undo.Calls)
        {
            var argv = foreign ? call.Argv.Select(a => a.StartsWith("CNI_NETNS=", StringComparison.Ordinal) ? "CNI_NETNS=" : a).ToArray() : call.Argv;
            var config = JsonNode.Parse(call.Config)!.AsObject();
            if (cached is not null) config["prevResult"] = cached.DeepClone();
            var outcome = await runner.RunAsync(argv, CommandPurpose.Teardown, config.ToJsonString(Written), ct);
            if (outcome.Succeeded) continue;
            if (GoneErrors.Namespace.Any(g => outcome.Output.Contains(g, StringComparison.Ordinal))) continue; // the lab's host is gone, and all in it
            problems.Add(Failure(Path.GetFileName(argv[^1]), outcome).Stderr);
        }
        if (problems.Count > 0) return $"DEL failed: {string.Join("; ", problems)}";
        if (!runner.IsDryRun && await RulesLeftAsync(undo, cached as JsonObject, runner, ct) is { } left) return left;
        if (!runner.IsDryRun) File.Delete(undo.ResultPath);
        return null;
    }

    /// <summary>Live CNI plugins (and their IPAM children) whose CNI_CONTAINERID matches: they carry it in their environment.</summary>
    public static IReadOnlyList<(int Pid, string ContainerId)> PluginsRunning(Func<string, bool> containerId) =>
        [.. Processes.WithEnvironmentName(ContainerIdVariable).Where(p => containerId(p.Value))];

    /// <summary>The variable that names the container to a plugin; the lab's value (<see cref="ContainerId"/>) is its label on the plugin's process.</summary>
    public const string ContainerIdVariable = "CNI_CONTAINERID";

    /// <summary>Ends (SIGKILL, by PID and start time) the plugins still running for a container id; what would not end, as problems.</summary>
    public static IEnumerable<string> EndPlugins(Func<string, bool> containerId)
    {
        foreach (var (pid, id) in PluginsRunning(containerId))
            if (!Processes.KillAndWait(pid, Processes.StartTime(pid), TimeSpan.FromSeconds(5)))
                yield return $"CNI plugin process {pid} (CNI_CONTAINERID={id}) would not end";
    }

    /// <summary>The plugins whose ADD writes iptables rules for the attachment: portmap, firewall, and bridge or ptp with ipMasq.</summary>
    private static bool WritesIptables(JsonObject config) =>
        (string?)config["type"] is "portmap" or "firewall" || (config["ipMasq"] is JsonValue m && m.GetValueKind() == JsonValueKind.True);

    /// <summary>
    /// After a DEL that every plugin agreed to, the lab's host must hold no iptables rule of the attachment any more: none
    /// naming the container's id (portmap's DNAT jump and bridge's or ptp's ipMasq rule carry it in their comment), and
    /// none of the firewall plugin's CNI-FORWARD rules for its addresses. A sandbox's rules would go with its namespace
    /// anyway, so this is what tells a DEL that did nothing (portmap without its runtimeConfig returns at once) from one
    /// that worked. Read with iptables-save in the lab's host, as DEL ran; a host that is gone holds nothing.
    /// </summary>
    private static async Task<string?> RulesLeftAsync(UndoCni undo, JsonObject? cached, ICommandRunner runner, CancellationToken ct)
    {
        var configs = undo.Calls.Select(c => JsonNode.Parse(c.Config) as JsonObject).OfType<JsonObject>().ToList();
        if (!configs.Any(WritesIptables) || undo.Calls.Length == 0) return null;
        var argv = undo.Calls[0].Argv;
        var env = Array.IndexOf(argv, "env");
        var id = argv.FirstOrDefault(a => a.StartsWith("CNI_CONTAINERID=", StringComparison.Ordinal))?["CNI_CONTAINERID=".Length..];
        if (env < 0 || id is null) return null;
        var save = await runner.RunAsync([.. argv[..env], "iptables-save"], CommandPurpose.Verify, ct);
        if (!save.Succeeded) return null; // the lab's host is gone, or has no iptables: nothing of the attachment there
        var addresses = (cached?["ips"] as JsonArray ?? []).OfType<JsonObject>().Select(i => ((string?)i["address"])?.Split('/')[0]).OfType<string>()
            .Where(a => !a.Contains(':')).ToList();
        var left = save.Stdout.Split('\n').Where(line => line.StartsWith("-A ", StringComparison.Ordinal) &&
                (line.Contains($"id: \\\"{id}\\\"", StringComparison.Ordinal) ||
                 line.StartsWith("-A CNI-FORWARD ", StringComparison.Ordinal) && addresses.Any(a => line.Contains($" {a}/32 ", StringComparison.Ordinal))))
            .ToList();
        return left.Count == 0 ? null : $"DEL left iptables rules of the attachment in the lab's host: {string.Join(" | ", left)}";
    }

    /// <summary>After teardown: a host-local reservation (a file named as an address) or the cached result still there.</summary>
    public static string? Leftover(UndoCni undo)
    {
        var left = new List<string>();
        if (undo.HostLocalDir is { } dir && Directory.Exists(dir))
            left.AddRange(Directory.EnumerateFiles(dir).Select(Path.GetFileName).OfType<string>()
                .Where(f => System.Net.IPAddress.TryParse(f, out _)).Select(f => $"host-local reservation {Path.Combine(dir, f)}"));
        if (File.Exists(undo.ResultPath)) left.Add($"cached result {undo.ResultPath}");
        return left.Count == 0 ? null : $"{string.Join(", ", left)} still there ({undo.Summary})";
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>
    /// CNI ADD (YAML <c>cni-add</c>): the plugins of <paramref name="network"/> (a conflist or one plugin's config, as JSON
    /// text) or of <paramref name="networkFile"/> give the place (<c>.In("busybox-1")</c>) the interface
    /// <paramref name="ifname"/>; CNI DEL at teardown.
    /// </summary>
    public static ActionClause CniAdd(this StepBuilder step, string? network = null, string? networkFile = null, string? ifname = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(Model.CniAdd.Kind, file, line, ("network", network), ("network-file", networkFile), ("ifname", ifname));
}
