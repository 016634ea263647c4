using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace LabRunner.Execution;

/// <summary>
/// The output of <c>iptables-save</c> (with or without <c>-c</c>) read into tables, chains and rules:
/// <code>
/// *filter
/// :FORWARD DROP [2:168]
/// [2:168] -A FORWARD -s 172.16.100.103/32 -j DROP
/// COMMIT
/// </code>
/// A chain line gives the policy of a built-in chain ("-" for a user chain) and its counters (packets the policy
/// decided); a rule line, with -c, its [packets:bytes] before the rule's text. Comments and blank lines are skipped;
/// a line that is none of these is kept in <see cref="Unread"/> rather than failing: a diagnosis reads what it can.
/// </summary>
public sealed record IptablesSave(ImmutableArray<SavedTable> Tables, ImmutableArray<string> Unread)
{
    public static readonly IptablesSave Empty = new([], []);

    /// <summary>The table of that name, or null when the output has none (iptables never used it there).</summary>
    public SavedTable? Table(string name) => Tables.FirstOrDefault(t => t.Name == name);

    /// <summary>Every rule of every table, in the output's order.</summary>
    public IEnumerable<SavedRule> Rules => Tables.SelectMany(t => t.Rules);

    /// <summary>Every chain of every table.</summary>
    public IEnumerable<SavedChain> Chains => Tables.SelectMany(t => t.Chains);

    public static IptablesSave Parse(string text)
    {
        var tables = ImmutableArray.CreateBuilder<SavedTable>();
        var unread = ImmutableArray.CreateBuilder<string>();
        string? table = null;
        var chains = ImmutableArray.CreateBuilder<SavedChain>();
        var rules = ImmutableArray.CreateBuilder<SavedRule>();
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);

        void Finish()
        {
            if (table is not null) tables.Add(new SavedTable(table, chains.ToImmutable(), rules.ToImmutable()));
            table = null;
            chains.Clear();
            rules.Clear();
            positions.Clear();
        }

        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith('*'))
            {
                Finish();
                table = line[1..];
                continue;
            }
            if (line == "COMMIT")
            {
                Finish();
                continue;
            }
            if (table is null)
            {
                unread.Add(line);
                continue;
            }
            if (line.StartsWith(':'))
            {
                // :FORWARD DROP [2:168]
                var parts = line[1..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 2)
                {
                    unread.Add(line);
                    continue;
                }
                var (packets, bytes) = parts.Length > 2 && TryCounters(parts[2], out var p, out var b) ? (p, b) : (0L, 0L);
                chains.Add(new SavedChain(table, parts[0], parts[1] == "-" ? null : parts[1], packets, bytes));
                continue;
            }
            long? rulePackets = null, ruleBytes = null;
            var ruleText = line;
            if (line.StartsWith('['))
            {
                var end = line.IndexOf(']', StringComparison.Ordinal);
                if (end < 0 || !TryCounters(line[..(end + 1)], out var p, out var b))
                {
                    unread.Add(line);
                    continue;
                }
                (rulePackets, ruleBytes) = (p, b);
                ruleText = line[(end + 1)..].Trim();
            }
            var words = Words(ruleText);
            if (words.Count < 2 || words[0] != "-A")
            {
                unread.Add(line);
                continue;
            }
            var chain = words[1];
            positions[chain] = positions.GetValueOrDefault(chain) + 1;
            rules.Add(new SavedRule(table, chain, ruleText, [.. words], rulePackets, ruleBytes, positions[chain]));
        }
        Finish();
        return new IptablesSave(tables.ToImmutable(), unread.ToImmutable());
    }

    /// <summary>"[2:168]" → 2 packets, 168 bytes.</summary>
    private static bool TryCounters(string text, out long packets, out long bytes)
    {
        packets = bytes = 0;
        if (text.Length < 5 || text[0] != '[' || text[^1] != ']') return false;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon > 0
               && long.TryParse(text.AsSpan(1, colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out packets)
               && long.TryParse(text.AsSpan(colon + 1, text.Length - colon - 2), NumberStyles.None, CultureInfo.InvariantCulture, out bytes);
    }

    /// <summary>A rule's words as iptables-save writes them: separated by spaces, a "quoted text" (a comment) one word.</summary>
    internal static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var quoted = false;
        var any = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '\\' && i + 1 < text.Length) word.Append(text[++i]);
                else if (c == '"') quoted = false;
                else word.Append(c);
            }
            else if (c == '"')
            {
                quoted = true;
                any = true;
            }
            else if (c == ' ')
            {
                if (any || word.Length > 0) words.Add(word.ToString());
                word.Clear();
                any = false;
            }
            else word.Append(c);
        }
        if (any || word.Length > 0) words.Add(word.ToString());
        return words;
    }
}

public sealed record SavedTable(string Name, ImmutableArray<SavedChain> Chains, ImmutableArray<SavedRule> Rules)
{
    public SavedChain? Chain(string name) => Chains.FirstOrDefault(c => c.Name == name);
}

/// <summary>A chain: its policy (null for a user chain) and the packets and bytes the policy decided.</summary>
public sealed record SavedChain(string Table, string Name, string? Policy, long Packets, long Bytes);

/// <summary>
/// A rule as iptables-save writes it (<see cref="Text"/>: "-A FORWARD -s 172.16.100.103/32 -j DROP"), its words, its
/// counters (null without -c) and its position in its chain (1 is the first).
/// </summary>
public sealed record SavedRule(string Table, string Chain, string Text, ImmutableArray<string> Words, long? Packets, long? Bytes, int Position)
{
    /// <summary>The target after -j (DROP, REJECT, ACCEPT, MASQUERADE, a user chain), or null.</summary>
    public string? Target => Option("-j");

    /// <summary>The word after <paramref name="option"/> ("-s", "--dport", "--to-destination"), or null when absent.</summary>
    public string? Option(string option)
    {
        for (var i = 0; i + 1 < Words.Length; i++)
            if (Words[i] == option) return Words[i + 1];
        return null;
    }

    /// <summary>Whether <paramref name="option"/> is negated ("! -s 10.0.0.0/8").</summary>
    public bool Negated(string option)
    {
        for (var i = 1; i < Words.Length; i++)
            if (Words[i] == option) return Words[i - 1] == "!";
        return false;
    }

    /// <summary>The rule as a command that deletes it: "iptables -t filter -D FORWARD -s … -j DROP".</summary>
    public string DeleteCommand => $"iptables -t {Table} -D {Text[3..]}";

    /// <summary>The same rule in another snapshot: same table, chain and text (the n-th of identical ones by position order).</summary>
    public bool SameRuleAs(SavedRule other) => Table == other.Table && Chain == other.Chain && Text == other.Text;
}
