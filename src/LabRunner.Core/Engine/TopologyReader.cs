using System.Text.Json;
using LabRunner.Execution;
using LabRunner.Kinds;
using LabRunner.Model;
using LabRunner.Reporting;

namespace LabRunner.Engine;

/// <summary>
/// Reads what the kernel holds in each place of a lab, for the pictures of a report (<see cref="LabOptions.ObserveTopology"/>):
/// one <c>ip -j -d addr show</c> per network namespace (links with their kind, bridge, veth peer and state, and
/// their addresses in one answer), as a check. A lab netns that does not exist at this point (not made yet, or
/// deleted) is left out; any other failure makes the observation a <see cref="TopologyObservation.NotSeen"/> with the
/// reason, never an error of the run: a picture is a report's, not the lab's.
/// </summary>
internal sealed class TopologyReader(LabSession session, ICommandRunner runner)
{
    /// <param name="places">The places to read, one per network namespace: the place to reach it by, its key and its label (as <see cref="HostModel"/> names them).</param>
    /// <param name="hostLink">With --host, which of the host's links are the lab's to draw (the machine's own are not); null: all of them (a sandbox's host is the lab's).</param>
    public async Task<TopologyObservation> ReadAsync(IReadOnlyList<(Place Place, string Key, string Label)> places, Func<string, bool>? hostLink, CancellationToken ct)
    {
        var observed = new List<ObservedPlace>();
        foreach (var (place, key, label) in places)
        {
            NetTarget target;
            try
            {
                target = session.Target(place);
            }
            catch (InvalidOperationException e)
            {
                return TopologyObservation.NotSeen($"{place}: {e.Message}");
            }
            var outcome = await runner.RunAsync(target.Ip("-j", "-d", "addr", "show"), CommandPurpose.Check, ct);
            if (!outcome.Succeeded)
            {
                if (place.Kind == PlaceKind.Netns && outcome.Stderr.Contains("Cannot open network namespace", StringComparison.Ordinal)) continue;
                return TopologyObservation.NotSeen($"{place} could not be read: {outcome.Error}");
            }
            try
            {
                var read = ObservedTopology.Parse(key, label, outcome.Stdout, session.Uplink.Name);
                observed.Add(place.Kind == PlaceKind.Host && hostLink is not null ? read with { Links = [.. read.Links.Where(l => hostLink(l.Name))] } : read);
            }
            catch (JsonException e)
            {
                return TopologyObservation.NotSeen($"{place}: ip's JSON could not be read: {e.Message}");
            }
        }
        return TopologyObservation.Seen(new ObservedTopology([.. observed]));
    }
}
