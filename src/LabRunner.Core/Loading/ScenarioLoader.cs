using System.Collections.Immutable;
using System.Text;
using LabRunner.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LabRunner.Loading;

/// <summary>
/// Turns a YAML lab into the immutable <see cref="Scenario"/> model. Reports every problem it finds
/// (types, unknown keys, formats, unknown names) with file:line:col, then <see cref="ScenarioValidator"/>
/// checks the flow (what exists when). The engine never sees YAML.
/// </summary>
public static class ScenarioLoader
{
    /// <summary>Larger files are refused before parsing: no real lab comes near this.</summary>
    public const int MaxFileBytes = 1 << 20;

    public static readonly ImmutableArray<string> ActionKeys =
    [
        "netns-add", "netns-delete", "veth-add", "bridge-add", "vxlan-add", "link-up", "link-down", "link-move", "link-delete",
        "bridge-attach", "bridge-detach", "address-add", "route-add", "sysctl", "iptables-policy",
        "container-run", "container-stop", "netns-symlink", "command",
    ];

    public static readonly ImmutableArray<string> ExpectationKeys =
    [
        "ping", "neighbor", "link", "links", "address", "route", "sysctl", "iptables-policy", "bridge-ports",
        "netns", "command", "capture",
    ];

    /// <summary>Deeper YAML nesting is refused before the tree is built (a real lab nests 7 deep; YamlDotNet's tree builder recurses).</summary>
    public const int MaxDepth = 64;

    /// <summary>At most this many errors are listed; the rest are counted.</summary>
    public const int MaxErrors = 50;

    public static Scenario LoadFile(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            throw Invalid(new SourceSpan(path, 0, 0), Directory.Exists(path) ? $"{path} is a directory, not a scenario file" : $"no such file: {path}", "check the path");
        if (info.Length > MaxFileBytes)
            throw Invalid(new SourceSpan(path, 1, 1), $"file is {info.Length} bytes; a scenario may be at most {MaxFileBytes}");
        string text;
        try
        {
            // Read at most one byte more than allowed: a device or pipe (/dev/zero, <(...)) has no length to check first.
            var bytes = ReadAtMost(path, MaxFileBytes + 1);
            if (bytes.Length > MaxFileBytes)
                throw Invalid(new SourceSpan(path, 1, 1), $"file is larger than {MaxFileBytes} bytes, the most a scenario may be");
            // A UTF-8 byte order mark (as some editors write) is not part of the text.
            var start = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, start, bytes.Length - start);
        }
        catch (DecoderFallbackException)
        {
            throw Invalid(new SourceSpan(path, 1, 1), "file is not valid UTF-8 text", "save the scenario as UTF-8");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Invalid(new SourceSpan(path, 0, 0), $"cannot read {path}: {e.Message}", "check the file's permissions (labrunner run needs root; validate does not)");
        }
        return Load(text, path);
    }

    private static byte[] ReadAtMost(string path, int limit)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.SequentialScan);
        var buffer = new byte[Math.Min(limit, stream.CanSeek && stream.Length > 0 ? (int)Math.Min(stream.Length + 1, limit) : 64 * 1024)];
        var total = 0;
        while (total < limit)
        {
            if (total == buffer.Length) Array.Resize(ref buffer, Math.Min(limit, buffer.Length * 2));
            var read = stream.Read(buffer, total, buffer.Length - total);
            if (read == 0) break;
            total += read;
        }
        return buffer[..total];
    }

    public static Scenario Load(string text, string file)
    {
        var errors = new ErrorSink(file);
        if (text.Length > MaxFileBytes && Encoding.UTF8.GetByteCount(text) > MaxFileBytes)
            throw Invalid(new SourceSpan(file, 1, 1), $"text is larger than {MaxFileBytes} bytes, the most a scenario may be");
        if (text.Contains('\0'))
            throw Invalid(new SourceSpan(file, 1, 1), "file contains NUL bytes: it is binary, not a YAML scenario");
        if (FirstForbiddenCharacter(text, file) is { } odd)
            throw Invalid(odd.Span, $"character U+{(int)odd.Char:X4} is not allowed in a scenario", "remove it: control characters, byte order marks and Unicode line/paragraph separators have no place in a lab (and trip the YAML parser)");
        PreScan(text, file);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (Exception e) when (e is not YamlException and (InvalidOperationException or ArgumentException or IndexOutOfRangeException or FormatException or OverflowException))
        {
            throw Invalid(new SourceSpan(file, 1, 1), $"not valid YAML: the parser failed ({e.Message})");
        }
        catch (YamlException e)
        {
            var message = (e.InnerException?.Message ?? e.Message).Trim();
            // YamlDotNet places "found invalid tab as indentation" at 1:1 whatever the line: point at the tab itself.
            if (message.Contains("tab", StringComparison.OrdinalIgnoreCase) && FirstTabIndent(text, file) is { } tab)
                throw Invalid(tab, $"not valid YAML: {message}", "indent with spaces: YAML does not allow tabs in indentation");
            throw Invalid(new SourceSpan(file, (int)e.Start.Line, (int)e.Start.Column), $"not valid YAML: {message}");
        }
        if (stream.Documents.Count != 1)
            throw Invalid(new SourceSpan(file, 1, 1), stream.Documents.Count == 0 ? "file is empty" : "file holds more than one YAML document");

        var scenario = new Reader(errors).Read(stream.Documents[0].RootNode);
        if (errors.Errors.Count > 0) throw Capped(errors.Errors);
        var flowErrors = ScenarioValidator.Validate(scenario!);
        if (flowErrors.Length > 0) throw Capped(flowErrors);
        return scenario!;
    }

    /// <summary>
    /// Hostile YAML is refused from the parser's event stream, before any tree is built: anchors and aliases (a
    /// "billion laughs" file expands exponentially, and a lab has no use for them) and nesting deeper than
    /// <see cref="MaxDepth"/> (the tree builder would overflow the stack, which kills the process). The scan itself
    /// keeps no more than a counter, so time and memory stay linear in the file's size (at most 1 MiB).
    /// </summary>
    private static void PreScan(string text, string file)
    {
        var parser = new Parser(new StringReader(text));
        var depth = 0;
        try
        {
            while (parser.MoveNext())
            {
                var e = parser.Current!;
                var at = new SourceSpan(file, (int)e.Start.Line, (int)e.Start.Column);
                if (e is YamlDotNet.Core.Events.AnchorAlias alias)
                    throw Invalid(at, $"YAML alias '*{alias.Value}' is not allowed in a scenario", "write the value out where it is used: anchors and aliases are refused (they can expand a small file into billions of nodes)");
                if (e is YamlDotNet.Core.Events.NodeEvent { Anchor.IsEmpty: false } node)
                    throw Invalid(at, $"YAML anchor '&{node.Anchor}' is not allowed in a scenario", "remove it and write the value out where it is used");
                if (e is YamlDotNet.Core.Events.SequenceStart or YamlDotNet.Core.Events.MappingStart && ++depth > MaxDepth)
                    throw Invalid(at, $"YAML nested more than {MaxDepth} levels deep", "a scenario nests about 7 levels (steps, actions, their fields): flatten it");
                if (e is YamlDotNet.Core.Events.SequenceEnd or YamlDotNet.Core.Events.MappingEnd) depth--;
            }
        }
        catch (YamlException)
        {
            // Syntax errors are reported, with their position, by the full parse that follows.
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or FormatException or OverflowException)
        {
            // YamlDotNet itself failed (not a YamlException): still a rejection, placed after the last thing it read.
            var mark = parser.Current?.End;
            throw Invalid(new SourceSpan(file, (int)(mark?.Line ?? 1), (int)(mark?.Column ?? 1)), $"not valid YAML: the parser failed here ({e.Message})");
        }
    }

    /// <summary>Control characters (other than tab and line ends), byte order marks inside the text, U+2028/U+2029.</summary>
    private static (SourceSpan Span, char Char)? FirstForbiddenCharacter(string text, string file)
    {
        var line = 1;
        var column = 1;
        foreach (var c in text)
        {
            if (c == '\n') { line++; column = 1; continue; }
            if (c is < ' ' and not '\t' and not '\r' || c is >= '\u007F' and <= '\u009F' and not '\u0085' || c is '\u2028' or '\u2029' or '\uFEFF')
                return (new SourceSpan(file, line, column), c);
            column++;
        }
        return null;
    }

    private static ScenarioInvalidException Capped(IReadOnlyList<ScenarioError> errors) =>
        errors.Count <= MaxErrors
            ? new([.. errors])
            : new([.. errors.Take(MaxErrors), new ScenarioError(errors[MaxErrors].Span, $"{errors.Count - MaxErrors} more errors not listed", "fix these first")]);

    /// <summary>Where the first tab in a line's leading whitespace is, or null.</summary>
    private static SourceSpan? FirstTabIndent(string text, string file)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            var tab = lines[i].IndexOf('\t', 0, indent);
            if (tab >= 0) return new SourceSpan(file, i + 1, tab + 1);
        }
        return null;
    }

    private static ScenarioInvalidException Invalid(SourceSpan span, string message, string? hint = null) =>
        new([new ScenarioError(span, message, hint)]);

    private sealed class Reader(ErrorSink errors)
    {
        private readonly HashSet<string> _netns = new(StringComparer.Ordinal);
        private readonly HashSet<string> _containers = new(StringComparer.Ordinal);

        public Scenario? Read(YamlNode root)
        {
            var map = errors.Map(root, "a scenario");
            if (map is null) return null;
            var name = map.String("lab", required: true) ?? "lab";
            var description = map.String("description");
            var uplink = ReadUplink(map);
            var runtime = map.String("runtime");
            if (runtime is not null && !Runtimes.ContainerRuntimes.Names.Contains(runtime))
                errors.Add(map.SpanOf("runtime"), $"unknown runtime '{runtime}'", $"use one of: {string.Join(", ", Runtimes.ContainerRuntimes.Names)}");
            var stepsNode = map.Node("steps");
            map.RejectUnknownKeys("the scenario (top level)");
            var steps = ImmutableArray.CreateBuilder<Step>();
            if (stepsNode is null)
                errors.Add(map.Span, "'steps' is missing", "a lab is a list of steps: 'steps:' then '- title: ...'");
            else if (stepsNode is not YamlSequenceNode stepSeq)
                errors.Add(errors.SpanOf(stepsNode), "'steps' must be a list of steps");
            else
            {
                DeclareNames(stepSeq);
                foreach (var stepNode in stepSeq.Children)
                    if (ReadStep(stepNode) is { } step) steps.Add(step);
                if (stepSeq.Children.Count == 0) errors.Add(errors.SpanOf(stepSeq), "'steps' is empty");
            }
            return new Scenario(name, description, uplink, steps.ToImmutable(), map.Span) { Runtime = runtime };
        }

        private Uplink ReadUplink(YamlMap map)
        {
            if (map.Node("uplink") is not { } node) return Uplink.Default;
            var m = errors.Map(node, "'uplink'");
            if (m is null) return Uplink.Default;
            var name = Interface(m, "name") ?? Uplink.Default.Name;
            var address = m.String("address") ?? Uplink.Default.Address;
            if (Names.CheckCidr(address) is { } why) errors.Add(m.SpanOf("address"), why);
            m.RejectUnknownKeys("'uplink'");
            return new Uplink(name, address);
        }

        /// <summary>First pass: which names are namespaces and which are containers, so 'in: X' can be resolved.</summary>
        private void DeclareNames(YamlSequenceNode steps)
        {
            foreach (var step in steps.Children.OfType<YamlMappingNode>())
            foreach (var (key, value) in step.Children)
            {
                if (key is not YamlScalarNode { Value: "actions" } || value is not YamlSequenceNode actions) continue;
                foreach (var action in actions.Children.OfType<YamlMappingNode>())
                foreach (var (k, v) in action.Children)
                {
                    var name = v switch
                    {
                        YamlScalarNode s => s.Value,
                        YamlMappingNode m => m.Children.FirstOrDefault(p => p.Key is YamlScalarNode { Value: "name" }).Value is YamlScalarNode n ? n.Value : null,
                        _ => null,
                    };
                    if (name is null) continue;
                    if (k is YamlScalarNode { Value: "netns-add" }) _netns.Add(name);
                    if (k is YamlScalarNode { Value: "container-run" }) _containers.Add(name);
                }
            }
        }

        private Step? ReadStep(YamlNode node)
        {
            var map = errors.Map(node, "a step");
            if (map is null) return null;
            var title = map.String("title", required: true) ?? "(untitled)";
            var text = map.String("text");
            var actions = ImmutableArray.CreateBuilder<LabAction>();
            var expectations = ImmutableArray.CreateBuilder<Expectation>();
            foreach (var item in Sequence(map, "actions"))
                if (ReadEntry(item, "action", ActionKeys, ReadAction) is { } action) actions.Add(action);
            foreach (var item in Sequence(map, "expect"))
                if (ReadEntry(item, "expectation", ExpectationKeys, ReadExpectation) is { } expectation) expectations.Add(expectation);
            map.RejectUnknownKeys("a step");
            return new Step(title, text, actions.ToImmutable(), expectations.ToImmutable(), map.Span);
        }

        private IEnumerable<YamlNode> Sequence(YamlMap map, string key)
        {
            var node = map.Node(key);
            if (node is null) return [];
            if (node is YamlSequenceNode seq) return seq.Children;
            errors.Add(errors.SpanOf(node), $"'{key}' must be a list ('- ...' lines)");
            return [];
        }

        /// <summary>An entry is a mapping with exactly one kind key (e.g. 'veth-add') plus common keys.</summary>
        private T? ReadEntry<T>(YamlNode node, string what, ImmutableArray<string> kinds, Func<string, YamlNode, YamlMap, T?> read)
            where T : class
        {
            var map = errors.Map(node, $"an {what}");
            if (map is null) return null;
            var present = map.Keys.Where(kinds.Contains).ToList();
            if (present.Count != 1)
            {
                var unknown = map.Keys.FirstOrDefault(k => !kinds.Contains(k) && k is not ("fails-with" or "within"));
                var hint = unknown is not null && Suggest.Nearest(unknown, kinds) is { } near
                    ? $"did you mean '{near}'?"
                    : $"known {what}s: {string.Join(", ", kinds)}";
                errors.Add(map.Span,
                    present.Count == 0 ? $"unknown {what}" + (unknown is null ? "" : $" '{unknown}'") : $"one {what} per list item, found {string.Join(" and ", present)}",
                    hint);
                return null;
            }
            var kind = present[0];
            var result = read(kind, map.Node(kind)!, map);
            map.RejectUnknownKeys($"this {what}");
            return result;
        }

        // ---------- actions ----------

        private LabAction? ReadAction(string kind, YamlNode value, YamlMap entry)
        {
            var failsWith = entry.String("fails-with");
            if (failsWith is { Length: 0 }) errors.Add(entry.SpanOf("fails-with"), "'fails-with' is empty, so any error would do", "give the error text the action must print, e.g. \"RTNETLINK answers: File exists\"");
            if (failsWith is not null) CheckTemplate(failsWith, entry.SpanOf("fails-with"));
            var span = entry.Span;
            LabAction? action = kind switch
            {
                "netns-add" => Short(value, "name", m => Object(m, "name", "netns") is { } n ? new NetnsAdd(n) : null),
                "netns-delete" => Short(value, "name", m => Object(m, "name", "netns") is { } n ? new NetnsDelete(n) : null),
                "bridge-add" => Short(value, "name", m => Interface(m, "name") is { } n ? new BridgeAdd(n, PlaceOf(m)) : null),
                "link-up" or "link-down" => Short(value, "name", m => Interface(m, "name") is { } n ? new LinkSetState(n, PlaceOf(m), kind == "link-up") : null),
                "link-delete" => Short(value, "name", m => Interface(m, "name") is { } n ? new LinkDelete(n, PlaceOf(m)) : null),
                "container-run" => Short(value, "name", ReadContainerRun),
                "container-stop" => Short(value, "name", m => Container(m, "name") is { } n ? new ContainerStop(n) : null),
                "netns-symlink" => Short(value, "container", m => Container(m, "container") is { } n ? new NetnsSymlink(n) : null),
                "vxlan-add" => Long(value, kind, m =>
                {
                    var name = Interface(m, "name", true);
                    var id = m.Int("id", 1, 16777215);
                    if (id is null && !m.Has("id")) errors.Add(m.Span, "'id' is missing", "the VXLAN network identifier, 1 to 16777215, the same on every host");
                    var remote = Ip(m, "remote");
                    var local = Ip(m, "local");
                    var dev = Interface(m, "dev");
                    var port = m.Int("port", 1, 65535) ?? VxlanAdd.DefaultPort;
                    var place = PlaceOf(m); // read even when something else is wrong: 'in' is a known key
                    return name is null || id is null ? null : new VxlanAdd(name, id.Value, remote, local, dev, port, place);
                }),
                "veth-add" => Long(value, kind, m =>
                {
                    var name = Interface(m, "name", true);
                    var peer = Interface(m, "peer", true);
                    var peerIn = m.Has("peer-in") ? PlaceOf(m, "peer-in") : null;
                    return name is null || peer is null ? null : new VethAdd(name, peer, PlaceOf(m), peerIn);
                }),
                "link-move" => Long(value, kind, m =>
                {
                    var name = Interface(m, "name", true);
                    var from = PlaceOf(m);
                    var to = m.Has("to") ? PlaceOf(m, "to") : null;
                    if (to is null) errors.Add(m.Span, "'to' is missing", "name the netns or container the link moves into");
                    var up = m.Bool("up") ?? false;
                    return name is null || to is null ? null : new LinkMove(name, from, to, up);
                }),
                "bridge-attach" or "bridge-detach" => Long<LabAction>(value, kind, m =>
                {
                    var bridge = Interface(m, "bridge", true);
                    var link = Interface(m, "link", true);
                    var place = PlaceOf(m);
                    if (bridge is null || link is null) return null;
                    return kind == "bridge-attach" ? new BridgeAttach(bridge, link, place) : new BridgeDetach(bridge, link, place);
                }),
                "address-add" => Long(value, kind, m =>
                {
                    var dev = Interface(m, "dev", true);
                    var address = Cidr(m, "address", true);
                    return dev is null || address is null ? null : new AddressAdd(dev, address, PlaceOf(m));
                }),
                "route-add" => Long(value, kind, m =>
                {
                    var to = RouteDestination(m, true);
                    var dev = Interface(m, "dev");
                    var via = Ip(m, "via");
                    if (dev is null && via is null && m.Has("to")) errors.Add(m.Span, "a route needs 'dev' or 'via'", "e.g. 'dev: veth-2' for the article's default route");
                    return to is null ? null : new RouteAdd(to, dev, via, PlaceOf(m));
                }),
                "sysctl" => Long(value, kind, m =>
                {
                    var key = SysctlKey(m, true);
                    var v = m.String("value", required: true);
                    if (v is not null && (v.Length == 0 || v.Any(char.IsControl))) errors.Add(m.SpanOf("value"), "'value' must be a non-empty single-line value");
                    return key is null || v is null ? null : new SysctlSet(key, v, PlaceOf(m));
                }),
                "iptables-policy" => Long(value, kind, m =>
                {
                    var (table, chain, policy) = ReadPolicy(m);
                    return chain is null || policy is null ? null : new IptablesPolicy(table, chain, policy, PlaceOf(m));
                }),
                "command" => Long(value, kind, ReadCommandAction),
                _ => null,
            };
            return action is null ? null : action with { Span = span, ExpectedError = failsWith };
        }

        private LabAction? ReadContainerRun(YamlMap m)
        {
            var name = Object(m, "name", "container");
            var image = m.String("image") ?? "busybox";
            if (image != "busybox" && image != "docker.io/library/busybox:latest")
                errors.Add(m.SpanOf("image"), $"image '{image}' is not available offline", "use 'busybox' (built from Debian's busybox-static)");
            var share = m.Has("netns-of") ? Container(m, "netns-of") : null;
            return name is null ? null : new ContainerRun(name, "busybox", share);
        }

        private LabAction? ReadCommandAction(YamlMap m)
        {
            var argv = Argv(m, "argv", true);
            ImmutableArray<string>? undo = null;
            var undoNode = m.Node("undo");
            if (undoNode is null)
                errors.Add(m.Span, "'undo' is missing",
                    "say how to undo the command ('undo: [ip, link, del, x]'), or 'undo: none' when it changes nothing");
            else if (undoNode is YamlScalarNode { Value: "none" }) undo = null;
            else undo = Argv(m, "undo", true);
            return argv is null ? null : new RunCommand(argv.Value, PlaceOf(m), undo);
        }

        private (string Table, string? Chain, string? Policy) ReadPolicy(YamlMap m)
        {
            var table = m.String("table") ?? "filter";
            if (table is not ("filter" or "nat" or "mangle" or "raw"))
                errors.Add(m.SpanOf("table"), $"unknown iptables table '{table}'", "use filter, nat, mangle or raw");
            var chain = m.String("chain", required: true);
            if (chain is not null && Names.CheckChain(chain) is { } why) errors.Add(m.SpanOf("chain"), why);
            var policy = m.String("policy", required: true);
            if (policy is not null && policy is not ("ACCEPT" or "DROP"))
                errors.Add(m.SpanOf("policy"), $"policy must be ACCEPT or DROP, not '{policy}'");
            return (table, chain, policy);
        }

        private T? Short<T>(YamlNode value, string nameKey, Func<YamlMap, T?> read) where T : class
        {
            if (value is YamlScalarNode scalar)
            {
                return read(YamlMap.FromShortForm(nameKey, scalar, errors));
            }
            return Long(value, null, read);
        }

        private T? Long<T>(YamlNode value, string? kind, Func<YamlMap, T?> read) where T : class
        {
            var m = errors.Map(value, kind is null ? "this entry" : $"'{kind}'");
            if (m is null) return null;
            var result = read(m);
            m.RejectUnknownKeys(kind is null ? "this entry" : $"'{kind}'");
            return result;
        }

        // ---------- expectations ----------

        private Expectation? ReadExpectation(string kind, YamlNode value, YamlMap entry)
        {
            // 'within' may stand beside the kind ('- ping: {...}' then 'within: 2s') or inside it.
            _within = null;
            var within = entry.Duration("within");
            var span = entry.Span;
            Expectation? e = kind switch
            {
                "ping" => Expect(value, kind, m =>
                {
                    var from = m.Has("from") ? PlaceOf(m, "from") : null;
                    if (from is null) errors.Add(m.Span, "'from' is missing", "name the host, netns or container that pings");
                    var to = Target(m, "to");
                    var succeeds = m.Bool("succeeds") ?? true;
                    var count = m.Int("count", 1, 20) ?? (succeeds ? 1 : 2);
                    return from is null || to is null ? null : new PingExpectation(from, to, succeeds, count);
                }),
                "neighbor" => Expect(value, kind, m =>
                {
                    var place = PlaceOf(m);
                    var ip = Ip(m, "ip", true);
                    var mac = m.String("mac");
                    if (mac is not null && !System.Text.RegularExpressions.Regex.IsMatch(mac, "^([0-9a-f]{2}:){5}[0-9a-f]{2}$"))
                        errors.Add(m.SpanOf("mac"), $"'{mac}' is not a MAC address like 3e:79:d5:dd:06:f6", "or use 'mac-of: { link: veth-2, in: busybox-1 }'");
                    var (ofLink, ofIn) = MacOf(m);
                    if (mac is not null && ofLink is not null) errors.Add(m.SpanOf("mac"), "give either 'mac' or 'mac-of', not both");
                    return ip is null ? null : new NeighborExpectation(place, ip, mac, ofLink, ofIn);
                }),
                "link" => Expect(value, kind, m =>
                {
                    var name = Interface(m, "name", true);
                    var place = PlaceOf(m);
                    var present = m.Bool("present") ?? true;
                    var state = m.String("state");
                    if (state is not null && state is not ("UP" or "DOWN" or "LOWERLAYERDOWN" or "UNKNOWN" or "DORMANT" or "NOTPRESENT"))
                        errors.Add(m.SpanOf("state"), $"unknown link state '{state}'", "use UP, DOWN, LOWERLAYERDOWN or UNKNOWN (ip link's 'state')");
                    var flags = m.StringList("flags") ?? [];
                    var master = m.String("master");
                    var noMaster = master == "none";
                    if (master is not null && !noMaster && Names.CheckInterface(master) is { } why) errors.Add(m.SpanOf("master"), why);
                    var peer = Interface(m, "peer");
                    var peerIn = m.Has("peer-in") ? PlaceOf(m, "peer-in") : null;
                    var (ofLink, ofIn) = MacOf(m);
                    return name is null ? null : new LinkExpectation(name, place, present, state, flags, noMaster ? null : master, noMaster, peer, peerIn)
                        { MacOfLink = ofLink, MacOfIn = ofIn };
                }),
                "links" => Expect(value, kind, m =>
                {
                    var place = PlaceOf(m);
                    var exactly = m.StringList("exactly");
                    if (exactly is null) errors.Add(m.Span, "'exactly' is missing", "list the links, e.g. 'exactly: [lo]'");
                    foreach (var l in exactly ?? []) if (Names.CheckInterface(l) is { } why) errors.Add(m.SpanOf("exactly"), why);
                    return exactly is null ? null : new LinksExpectation(place, exactly.Value);
                }),
                "address" => Expect(value, kind, m =>
                {
                    var dev = Interface(m, "dev", true);
                    var address = Cidr(m, "address", true);
                    var present = m.Bool("present") ?? true;
                    return dev is null || address is null ? null : new AddressExpectation(PlaceOf(m), dev, address, present);
                }),
                "route" => Expect(value, kind, m =>
                {
                    var to = RouteDestination(m, true);
                    var dev = Interface(m, "dev");
                    var via = Ip(m, "via");
                    var present = m.Bool("present") ?? true;
                    return to is null ? null : new RouteExpectation(PlaceOf(m), to, dev, via, present);
                }),
                "sysctl" => Expect(value, kind, m =>
                {
                    var key = SysctlKey(m, true);
                    var v = m.String("value", required: true);
                    return key is null || v is null ? null : new SysctlExpectation(PlaceOf(m), key, v);
                }),
                "iptables-policy" => Expect(value, kind, m =>
                {
                    var (table, chain, policy) = ReadPolicy(m);
                    return chain is null || policy is null ? null : new IptablesPolicyExpectation(PlaceOf(m), table, chain, policy);
                }),
                "bridge-ports" => Expect(value, kind, m =>
                {
                    var bridge = Interface(m, "bridge", true);
                    var ports = m.StringList("ports");
                    if (ports is null) errors.Add(m.Span, "'ports' is missing", "list the ports, or 'ports: []' for none");
                    foreach (var p in ports ?? []) if (Names.CheckInterface(p) is { } why) errors.Add(m.SpanOf("ports"), why);
                    return bridge is null || ports is null ? null : new BridgePortsExpectation(bridge, PlaceOf(m), ports.Value);
                }),
                "netns" => Expect(value, kind, m =>
                {
                    var name = m.Has("name") ? Object(m, "name", "netns") : null;
                    var container = m.Has("container") ? Container(m, "container") : null;
                    if (m.Has("name") == m.Has("container"))
                        errors.Add(m.Span, "give either 'name' (a lab netns) or 'container' (its /var/run/netns/PID symlink)");
                    if (name is not null && !_netns.Contains(name)) UnknownName(m.SpanOf("name"), name, "netns", _netns);
                    var present = m.Bool("present") ?? true;
                    return name is null && container is null ? null : new NetnsExpectation(name, container, present);
                }),
                "command" => Expect(value, kind, m =>
                {
                    var argv = Argv(m, "argv", true);
                    var exit = m.Int("exit-code", 0, 255);
                    var contains = m.String("output-contains");
                    if (contains is not null) CheckTemplate(contains, m.SpanOf("output-contains"));
                    if (exit is null && contains is null) exit = 0;
                    return argv is null ? null : new CommandExpectation(PlaceOf(m), argv.Value, exit, contains);
                }),
                "capture" => Expect(value, kind, m =>
                {
                    var traffic = CaptureWhile(m);
                    var points = CapturePoints(m);
                    return traffic is null || points is null ? null : new CaptureExpectation(traffic, points.Value);
                }),
                _ => null,
            };
            if (e is null) return null;
            e = e with { Span = span };
            if (within is not null && _within is not null) errors.Add(entry.SpanOf("within"), "'within' is given twice, beside the expectation and inside it", "keep one");
            within ??= _within;
            return within is null ? e : e with { Within = within.Value };
        }

        private TimeSpan? _within;

        private Expectation? Expect(YamlNode value, string kind, Func<YamlMap, Expectation?> read) =>
            Long(value, kind, m =>
            {
                _within = m.Duration("within");
                return read(m);
            });

        /// <summary>'while: { ping: { from: busybox-2, to: 172.16.100.101, count: 2 } }': the traffic a capture watches.</summary>
        private CaptureTraffic? CaptureWhile(YamlMap m)
        {
            if (m.Node("while") is not { } node)
            {
                errors.Add(m.Span, "'while' is missing", "say what traffic to capture: 'while: { ping: { from: busybox-2, to: 172.16.100.101 } }'");
                return null;
            }
            if (errors.Map(node, "'while'") is not { } w) return null;
            CaptureTraffic? traffic = null;
            if (w.Node("ping") is { } pingNode && errors.Map(pingNode, "'ping'") is { } ping)
            {
                var from = ping.Has("from") ? PlaceOf(ping, "from") : null;
                if (from is null) errors.Add(ping.Span, "'from' is missing", "name the host, netns or container that pings");
                var to = Target(ping, "to");
                var count = ping.Int("count", 1, 20) ?? 2;
                ping.RejectUnknownKeys("'ping'");
                traffic = from is null || to is null ? null : new CaptureTraffic(from, to, count);
            }
            else if (!w.Has("ping")) errors.Add(w.Span, "'while' needs 'ping'", "e.g. 'while: { ping: { from: busybox-2, to: 172.16.100.101 } }'");
            w.RejectUnknownKeys("'while'");
            return traffic;
        }

        /// <summary>'on: [ { link: br-0, sees: [icmp] }, { link: veth-2, in: busybox-1, never: [icmp] } ]'.</summary>
        private ImmutableArray<CapturePoint>? CapturePoints(YamlMap m)
        {
            if (m.Node("on") is not { } node)
            {
                errors.Add(m.Span, "'on' is missing", "list the links to capture on: 'on: [ { link: br-0, sees: [icmp] } ]'");
                return null;
            }
            if (node is not YamlSequenceNode seq || seq.Children.Count == 0)
            {
                errors.Add(errors.SpanOf(node), "'on' must be a non-empty list of links to capture on", "e.g. 'on: [ { link: br-0, sees: [icmp] } ]'");
                return null;
            }
            var points = ImmutableArray.CreateBuilder<CapturePoint>();
            var ok = true;
            foreach (var item in seq.Children)
            {
                if (errors.Map(item, "a capture point") is not { } p) { ok = false; continue; }
                var link = Interface(p, "link", true);
                var place = PlaceOf(p);
                var sees = Filters(p, "sees");
                var never = Filters(p, "never");
                if (sees.IsEmpty && never.IsEmpty)
                    errors.Add(p.Span, "a capture point needs 'sees' or 'never'", "give pcap filters, e.g. 'sees: [\"icmp[icmptype] == icmp-echo\"]' or 'never: [icmp]'");
                p.RejectUnknownKeys("a capture point");
                if (link is null) { ok = false; continue; }
                points.Add(new CapturePoint(link, place, sees, never) { Span = p.Span });
            }
            return ok ? points.ToImmutable() : null;
        }

        /// <summary>pcap filter expressions (tcpdump's language); libpcap compiles them before the lab starts.</summary>
        private ImmutableArray<string> Filters(YamlMap m, string key)
        {
            var filters = m.StringList(key) ?? [];
            foreach (var f in filters)
                if (CaptureFilters.FormProblem(f, key) is { } problem) errors.Add(m.SpanOf(key), problem.Message, problem.Hint);
            return filters;
        }

        // ---------- fields ----------

        /// <summary>'mac-of: { link: veth-2, in: busybox-1 }': a MAC known only at run time.</summary>
        private (string? Link, Place? In) MacOf(YamlMap m)
        {
            if (m.Node("mac-of") is not { } node || errors.Map(node, "'mac-of'") is not { } of) return (null, null);
            var link = Interface(of, "link", true);
            var place = PlaceOf(of);
            of.RejectUnknownKeys("'mac-of'");
            return (link, place);
        }

        private Place PlaceOf(YamlMap m, string key = "in")
        {
            var name = m.String(key);
            if (name is null || name == "host") return Place.Host;
            if (_netns.Contains(name)) return Place.Netns(name);
            if (_containers.Contains(name)) return Place.Container(name);
            UnknownName(m.SpanOf(key), name, "netns or container", _netns.Concat(_containers));
            return Place.Host;
        }

        private void UnknownName(SourceSpan span, string name, string what, IEnumerable<string> known)
        {
            var all = known.ToList();
            var near = Suggest.Nearest(name, all);
            errors.Add(span, $"unknown {what} '{name}': no action of this lab creates it",
                near is not null ? $"did you mean '{near}'?" : all.Count == 0 ? $"create it first (netns-add or container-run)" : $"known: host, {string.Join(", ", all.Order())}");
        }

        private string? Interface(YamlMap m, string key, bool required = false)
        {
            var name = m.String(key, required);
            if (name is not null && Names.CheckInterface(name) is { } why) errors.Add(m.SpanOf(key), why);
            return name;
        }

        private string? Object(YamlMap m, string key, string what)
        {
            var name = m.String(key, required: true);
            if (name is not null && Names.CheckObject(name, what) is { } why) errors.Add(m.SpanOf(key), why);
            return name;
        }

        private string? Container(YamlMap m, string key)
        {
            var name = m.String(key, required: true);
            if (name is not null && !_containers.Contains(name)) UnknownName(m.SpanOf(key), name, "container", _containers);
            return name;
        }

        private string? Cidr(YamlMap m, string key, bool required)
        {
            var text = m.String(key, required);
            if (text is not null && Names.CheckCidr(text) is { } why) errors.Add(m.SpanOf(key), why, "write it as address/prefix, e.g. 172.16.100.1/24");
            return text;
        }

        private string? Ip(YamlMap m, string key, bool required = false)
        {
            var text = m.String(key, required);
            if (text is not null && !Names.IsIPv4(text)) errors.Add(m.SpanOf(key), $"'{text}' is not an IPv4 address", "e.g. 172.16.100.101");
            return text;
        }

        /// <summary>An address to ping: an IPv4 address or ${uplink.ip}.</summary>
        private string? Target(YamlMap m, string key)
        {
            var text = m.String(key, required: true);
            if (text is null) return null;
            if (text.Contains("${")) CheckTemplate(text, m.SpanOf(key));
            else if (!Names.IsIPv4(text)) errors.Add(m.SpanOf(key), $"'{text}' is not an IPv4 address", "e.g. 172.16.100.1, or ${uplink.ip} for the host's uplink");
            return text;
        }

        private string? RouteDestination(YamlMap m, bool required)
        {
            var to = m.String("to", required);
            if (to is not null && to != "default" && Names.CheckCidr(to) is { } why) errors.Add(m.SpanOf("to"), why, "use 'default' or a CIDR such as 10.0.0.0/24");
            return to;
        }

        private string? SysctlKey(YamlMap m, bool required)
        {
            var key = m.String("key", required);
            if (key is not null && Names.CheckSysctlKey(key) is { } why) errors.Add(m.SpanOf("key"), why);
            return key;
        }

        private ImmutableArray<string>? Argv(YamlMap m, string key, bool required)
        {
            var argv = m.StringList(key);
            if (argv is null)
            {
                if (required && !m.Has(key)) errors.Add(m.Span, $"'{key}' is missing", "give the command as a list: [ip, link, show]");
                return null;
            }
            if (argv.Value.Length == 0) errors.Add(m.SpanOf(key), $"'{key}' is empty");
            foreach (var arg in argv.Value)
            {
                if (arg.Any(c => c == '\0' || c == '\n')) errors.Add(m.SpanOf(key), "an argument may not contain NUL or newline");
                CheckTemplate(arg, m.SpanOf(key));
            }
            return argv;
        }

        private void CheckTemplate(string text, SourceSpan span)
        {
            if (Templates.Check(text, _containers) is { } why) errors.Add(span, why);
        }
    }
}
