using System.Collections.Immutable;
using System.Text;
using LabRunner.Kinds;
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

    /// <param name="hostUplinks">
    /// A lab across hosts: each host's uplink name from the inventory, where it has one; that host's part is checked with it.
    /// </param>
    public static Scenario Load(string text, string file, IReadOnlyDictionary<string, string>? hostUplinks = null)
    {
        var errors = new ErrorList();
        if (text.Length > MaxFileBytes && Encoding.UTF8.GetByteCount(text) > MaxFileBytes)
            throw Invalid(new SourceSpan(file, 1, 1), $"text is larger than {MaxFileBytes} bytes, the most a scenario may be");
        if (text.Contains('\0'))
            throw Invalid(new SourceSpan(file, 1, 1), "file contains NUL bytes: it is binary, not a YAML scenario");
        if (FirstForbiddenCharacter(text, file) is { } odd)
            throw Invalid(odd.Span, $"character U+{(int)odd.Char:X4} is not allowed in a scenario", "remove it: control characters, byte order marks and Unicode line/paragraph separators have no place in a lab (and trip the YAML parser)");
        // A lab across hosts names host addresses and uplinks the inventory gives (${hosts.NAME.address}, .uplink); the
        // controller writes them in before loading. Any still there (validate, plan) are checked with stand-ins.
        text = MultiHost.HostParts.WithStandIns(text, file);
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

        var scenario = new Reader(errors).Read(FieldValue.FromYaml(stream.Documents[0].RootNode, file));
        if (errors.Errors.Count > 0) throw Capped(errors.Errors);
        if (hostUplinks is not null)
            scenario = scenario! with
            {
                HostUplinks = hostUplinks.Where(u => scenario.Hosts.Contains(u.Key) && u.Value != scenario.Uplink.Name).ToImmutableDictionary(),
            };
        // A lab across hosts is played host by host: each host has its own places (a name may exist on two hosts).
        var flowErrors = scenario!.Hosts.IsEmpty
            ? ScenarioValidator.Validate(scenario)
            : [.. scenario.Hosts.SelectMany(h => ScenarioValidator.Validate(scenario.PartOn(h)).Select(e => e with { Message = $"on {h}: {e.Message}" }))];
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

    /// <summary>
    /// Reads the lab's structure (lab, uplink, steps, entries); each entry's fields are read by its kind
    /// (<see cref="KindRegistry"/>), with the rules and messages every kind shares (<see cref="FieldReader"/>).
    /// </summary>
    private sealed class Reader(ErrorList errors)
    {
        private LabNames _names = new(new HashSet<string>(), new HashSet<string>());

        public Scenario? Read(FieldValue root)
        {
            _names = DeclaredNames(root);
            var map = FieldReader.Of(root, "a scenario", errors, _names);
            if (map is null) return null;
            var name = map.String("lab", required: true) ?? "lab";
            var description = map.String("description");
            var uplink = ReadUplink(map);
            var runtime = map.String("runtime");
            if (runtime is not null && !Runtimes.ContainerRuntimes.Names.Contains(runtime))
                errors.Add(map.SpanOf("runtime"), $"unknown runtime '{runtime}'", $"use one of: {string.Join(", ", Runtimes.ContainerRuntimes.Names)}");
            _hosts = ReadHosts(map);
            // Written by the controller into a host's part (HostParts): the hosts of the whole lab, for a capture whose
            // traffic runs on another host.
            var partOf = map.StringList("part-of") ?? [];
            var stepsNode = map.Node("steps");
            map.RejectUnknownKeys("the scenario (top level)");
            var steps = ImmutableArray.CreateBuilder<Step>();
            if (stepsNode is null)
                errors.Add(map.Span, "'steps' is missing", "a lab is a list of steps: 'steps:' then '- title: ...'");
            else if (stepsNode is not ListValue stepList)
                errors.Add(stepsNode.Span, "'steps' must be a list of steps");
            else
            {
                foreach (var stepNode in stepList.Items)
                    if (ReadStep(stepNode) is { } step) steps.Add(step);
                if (stepList.Items.Length == 0) errors.Add(stepList.Span, "'steps' is empty");
            }
            CheckTrafficHosts(steps, [.. _hosts, .. partOf]);
            return new Scenario(name, description, uplink, steps.ToImmutable(), map.Span) { Runtime = runtime, Hosts = _hosts };
        }

        /// <summary>A capture's ping 'on:' another host: only in a lab across hosts, a host of it, not the capture's own.</summary>
        private void CheckTrafficHosts(IEnumerable<Step> steps, ImmutableArray<string> hosts)
        {
            foreach (var e in steps.SelectMany(s => s.Expectations))
            {
                var traffic = e switch { CaptureExpectation c => c.While, CounterExpectation { While: { } w } => w, _ => null };
                if (traffic?.OnHost is not { } on) continue;
                if (e is CounterExpectation)
                    errors.Add(traffic.Span, "a counter's traffic runs on the counter's own host", "remove 'on' from its ping");
                else if (hosts.IsEmpty)
                    errors.Add(traffic.Span, "the ping's 'on' names a host, but this lab has no 'hosts'", "declare the hosts at the top (hosts: [a, b]) or remove 'on'");
                else if (!hosts.Contains(on))
                    errors.Add(traffic.Span, $"unknown host '{on}'", $"hosts: {string.Join(", ", hosts)}");
                else if (on == e.OnHost)
                    errors.Add(traffic.Span, $"the ping's 'on: {on}' is the capture's own host", "remove it: a capture's traffic runs on its own host unless said otherwise");
            }
        }

        private ImmutableArray<string> _hosts = [];

        /// <summary><c>hosts: [a, b]</c>: a lab across hosts (docs/MULTI-HOST.md); names as a namespace's, unique.</summary>
        private ImmutableArray<string> ReadHosts(FieldReader map)
        {
            if (map.StringList("hosts") is not { } hosts) return [];
            var span = map.SpanOf("hosts");
            if (hosts.IsEmpty) errors.Add(span, "'hosts' is empty", "name the hosts the lab runs on, e.g. hosts: [a, b], or leave 'hosts' out for a lab on one host");
            foreach (var host in hosts)
                if (Names.CheckObject(host, "a host name") is { } why) errors.Add(span, why);
            foreach (var twice in hosts.GroupBy(h => h).Where(g => g.Count() > 1))
                errors.Add(span, $"host '{twice.Key}' is named twice in 'hosts'");
            return [.. hosts.Distinct()];
        }

        /// <summary>
        /// The host an entry runs on: its own <c>on:</c>, else its step's. In a lab with hosts every entry needs one;
        /// in a lab without, <c>on:</c> is refused.
        /// </summary>
        private string? ReadOn(FieldReader entry, string? stepOn, string what)
        {
            var on = entry.String("on");
            if (on is null) on = stepOn;
            else if (_hosts.IsEmpty)
            {
                errors.Add(entry.SpanOf("on"), "'on' names a host, but this lab has no 'hosts'", "declare the hosts at the top (hosts: [a, b]) or remove 'on'");
                return null;
            }
            else if (!_hosts.Contains(on))
            {
                errors.Add(entry.SpanOf("on"), $"unknown host '{on}'", Suggest.Nearest(on, _hosts) is { } near ? $"did you mean '{near}'? (hosts: {string.Join(", ", _hosts)})" : $"hosts: {string.Join(", ", _hosts)}");
                return null;
            }
            if (on is null && !_hosts.IsEmpty)
                errors.Add(entry.Span, $"this {what} does not say which host it is on", $"add 'on: HOST' to it or to its step (hosts: {string.Join(", ", _hosts)})");
            return on;
        }

        private Uplink ReadUplink(FieldReader map)
        {
            if (map.Node("uplink") is not { } node) return Uplink.Default;
            var m = FieldReader.Of(node, "'uplink'", errors, _names);
            if (m is null) return Uplink.Default;
            var name = m.Interface("name") ?? Uplink.Default.Name;
            var address = m.String("address") ?? Uplink.Default.Address;
            if (Names.CheckCidr(address) is { } why) errors.Add(m.SpanOf("address"), why);
            m.RejectUnknownKeys("'uplink'");
            return new Uplink(name, address);
        }

        /// <summary>
        /// First pass: which names are namespaces and which are containers (the kinds that create them say so), so
        /// 'in: X' can be resolved in any step, before or after the one that creates X.
        /// </summary>
        private static LabNames DeclaredNames(FieldValue root)
        {
            var declared = new List<Place>();
            foreach (var action in Children(Child(root, "steps")).SelectMany(step => Children(Child(step, "actions"))).OfType<MapValue>())
            foreach (var entry in action.Entries)
            {
                if (KindRegistry.Actions.FirstOrDefault(k => k.Keyword == entry.Key) is not { Declares: { } kind, ShortForm: { } key }) continue;
                var name = entry.Value is ScalarValue s ? s.Text : Child(entry.Value, key) is ScalarValue n ? n.Text : null;
                if (name is not null) declared.Add(new Place(kind, name));
            }
            return LabNames.Of(declared);

            static FieldValue? Child(FieldValue? map, string key) => (map as MapValue)?.Entries.FirstOrDefault(e => e.Key == key)?.Value;
            static IEnumerable<FieldValue> Children(FieldValue? list) => list is ListValue l ? l.Items : [];
        }

        private Step? ReadStep(FieldValue node)
        {
            var map = FieldReader.Of(node, "a step", errors, _names);
            if (map is null) return null;
            var title = map.String("title", required: true) ?? "(untitled)";
            var text = map.String("text");
            _stepOn = map.String("on");
            if (_stepOn is not null && _hosts.IsEmpty)
                errors.Add(map.SpanOf("on"), "'on' names a host, but this lab has no 'hosts'", "declare the hosts at the top (hosts: [a, b]) or remove 'on'");
            else if (_stepOn is not null && !_hosts.Contains(_stepOn))
                errors.Add(map.SpanOf("on"), $"unknown host '{_stepOn}'", $"hosts: {string.Join(", ", _hosts)}");
            var actions = ImmutableArray.CreateBuilder<LabAction>();
            var expectations = ImmutableArray.CreateBuilder<Expectation>();
            foreach (var item in Sequence(map, "actions"))
                if (ReadEntry(item, "action", KindRegistry.ActionKeywords, ReadAction) is { } action) actions.Add(action);
            foreach (var item in Sequence(map, "expect"))
                if (ReadEntry(item, "expectation", KindRegistry.ExpectationKeywords, ReadExpectation) is { } expectation) expectations.Add(expectation);
            map.RejectUnknownKeys("a step");
            return new Step(title, text, actions.ToImmutable(), expectations.ToImmutable(), map.Span);
        }

        /// <summary>The step being read's <c>on:</c> (the default host of its entries), or null.</summary>
        private string? _stepOn;

        private IEnumerable<FieldValue> Sequence(FieldReader map, string key)
        {
            var node = map.Node(key);
            if (node is null) return [];
            if (node is ListValue list) return list.Items;
            errors.Add(node.Span, $"'{key}' must be a list ('- ...' lines)");
            return [];
        }

        /// <summary>An entry is a mapping with exactly one kind key (e.g. 'veth-add') plus common keys.</summary>
        private T? ReadEntry<T>(FieldValue node, string what, ImmutableArray<string> kinds, Func<string, FieldValue, FieldReader, T?> read)
            where T : class
        {
            var map = FieldReader.Of(node, $"an {what}", errors, _names);
            if (map is null) return null;
            var present = map.Keys.Where(kinds.Contains).ToList();
            if (present.Count != 1)
            {
                var unknown = map.Keys.FirstOrDefault(k => !kinds.Contains(k) && k is not ("fails-with" or "within" or "on"));
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

        /// <summary>The kind's fields as a reader: 'netns-add: n1' (a short form) or 'veth-add: { name: ..., peer: ... }'.</summary>
        private FieldReader? Fields(Kind kind, FieldValue value, ImmutableArray<FieldSpec> fields) =>
            kind.ShortForm is { } key && value is ScalarValue scalar
                ? FieldReader.ShortForm(key, scalar, errors, _names, fields)
                : FieldReader.Of(value, kind.ShortForm is null ? $"'{kind.Keyword}'" : "this entry", errors, _names, fields);

        private LabAction? ReadAction(string keyword, FieldValue value, FieldReader entry)
        {
            var failsWith = entry.String("fails-with");
            if (failsWith is { Length: 0 }) errors.Add(entry.SpanOf("fails-with"), "'fails-with' is empty, so any error would do", "give the error text the action must print, e.g. \"RTNETLINK answers: File exists\"");
            if (failsWith is not null) entry.CheckTemplate(failsWith, entry.SpanOf("fails-with"));
            var on = ReadOn(entry, _stepOn, "action");
            var kind = KindRegistry.Action(keyword);
            if (Fields(kind, value, kind.Fields) is not { } fields) return null;
            var action = kind.Read(fields);
            fields.RejectUnknownKeys(kind.ShortForm is null ? $"'{keyword}'" : "this entry");
            return action is null ? null : action with { Span = entry.Span, ExpectedError = failsWith, OnHost = on };
        }

        /// <summary>'within' may stand beside the kind ('- ping: {...}' then 'within: 2s') or inside it.</summary>
        private Expectation? ReadExpectation(string keyword, FieldValue value, FieldReader entry)
        {
            var on = ReadOn(entry, _stepOn, "expectation");
            var kind = KindRegistry.Expectation(keyword);
            if (Fields(kind, value, [.. kind.Fields, CommonFields.Within]) is not { } fields) return null;
            var inner = fields.Duration("within");
            var expectation = kind.Read(fields);
            fields.RejectUnknownKeys($"'{keyword}'");
            var beside = entry.Duration("within");
            if (expectation is null) return null;
            if (beside is not null && inner is not null) errors.Add(entry.SpanOf("within"), "'within' is given twice, beside the expectation and inside it", "keep one");
            var within = beside ?? inner;
            expectation = expectation with { Span = entry.Span, OnHost = on };
            return within is null ? expectation : expectation with { Within = within.Value };
        }
    }
}
