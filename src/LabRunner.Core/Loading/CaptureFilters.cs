using System.Collections.Immutable;
using LabRunner.Execution;
using LabRunner.Model;

namespace LabRunner.Loading;

/// <summary>
/// The pcap filters of a lab's capture expectations, compiled by libpcap (<c>tcpdump -d</c>) before anything runs,
/// so a typo in a filter is a scenario error with its position (exit 2), not a failed step half-way through a lab.
/// The loader checks only what it can without tcpdump (empty, too long, control characters).
/// </summary>
public static class CaptureFilters
{
    public const int MaxLength = 1000;

    /// <summary>
    /// What is wrong with a filter's form (the checks that need no tcpdump), with a hint, or null when it looks like
    /// a filter; <paramref name="key"/> is how the lab names the list it is in ('sees', 'Never').
    /// </summary>
    public static (string Message, string? Hint)? FormProblem(string filter, string key) =>
        string.IsNullOrWhiteSpace(filter) ? ($"an empty filter in '{key}'", "give a pcap filter, e.g. icmp or arp")
        : filter.Length > MaxLength ? ($"a filter of {filter.Length} characters in '{key}' (at most {MaxLength})", null)
        : filter.Any(char.IsControl) ? ($"a filter in '{key}' contains a control character", null)
        // tcpdump would read it as an option ('-w/tmp/x' writes a file): a pcap filter never starts with '-'.
        : filter.TrimStart().StartsWith('-') ? ($"a filter in '{key}' starts with '-' ('{filter}'): tcpdump would read it as an option",
            "a pcap filter starts with a word or '(', e.g. 'icmp', 'not arp', '(tcp or udp) and port 53'")
        : null;

    /// <summary>A pcap file header for Ethernet and nothing else: what `tcpdump -d -r HEADER -- FILTER` compiles a filter against.</summary>
    private static readonly byte[] EthernetPcapHeader =
        [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0];

    /// <summary>
    /// Every filter libpcap refuses, as scenario errors (empty when all compile, or when there are none). Each
    /// `tcpdump -d` is a <see cref="CommandPurpose.Check"/> of <paramref name="runner"/>: reported like any command, and
    /// under its time limit.
    /// </summary>
    public static async Task<ImmutableArray<ScenarioError>> CheckAsync(IEnumerable<(string Filter, SourceSpan Span)> all, ICommandRunner runner, string tcpdump = "tcpdump", CancellationToken ct = default)
    {
        var filters = all.DistinctBy(f => (f.Filter, f.Span)).ToList();
        if (filters.Count == 0) return [];
        var header = Path.Combine(Path.GetTempPath(), $"labrunner-filter-check-{Environment.ProcessId}-{Guid.NewGuid():N}.pcap");
        await File.WriteAllBytesAsync(header, EthernetPcapHeader, ct);
        try
        {
            var errors = ImmutableArray.CreateBuilder<ScenarioError>();
            foreach (var (filter, span) in filters)
            {
                // '--': a filter is never an option, even one the form check missed.
                var result = await runner.RunAsync([tcpdump, "-d", "-r", header, "--", filter], CommandPurpose.Check, ct);
                if (result.Succeeded) continue;
                var why = result.Stderr.Split('\n').Select(l => l.Trim())
                    .LastOrDefault(l => l.StartsWith("tcpdump:", StringComparison.Ordinal))?["tcpdump:".Length..].Trim() ?? $"exit {result.ExitCode}";
                errors.Add(new ScenarioError(span, $"pcap filter '{filter}' does not compile: {why}",
                    "write it as for tcpdump, e.g. 'icmp', 'arp', 'icmp[icmptype] == icmp-echo', 'host 172.16.100.101' (see man pcap-filter)"));
            }
            return errors.ToImmutable();
        }
        finally
        {
            File.Delete(header);
        }
    }
}
