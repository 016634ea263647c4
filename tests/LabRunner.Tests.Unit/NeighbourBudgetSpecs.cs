using LabRunner.Engine;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>The neighbour table's budget: what a lab's traffic needs against the machine's gc_thresh3.</summary>
public sealed class NeighbourBudgetSpecs
{
    private static string Star(int n)
    {
        var yaml = new System.Text.StringBuilder("lab: star\nsteps:\n  - title: containers\n    actions:\n      - bridge-add: br0\n");
        for (var i = 1; i <= n; i++) yaml.Append($"      - netns-add: c{i}\n");
        yaml.Append("    expect:\n");
        for (var i = 1; i <= n; i++) yaml.Append($"      - ping: {{ from: c{i}, to: 10.0.0.1 }}\n");
        // The same pair twice makes no new entry.
        yaml.Append("      - ping: { from: c1, to: 10.0.0.1 }\n");
        return yaml.ToString();
    }

    [Fact]
    public void Each_distinct_ping_makes_an_entry_in_the_sender_and_one_in_the_answerer()
    {
        Assert.Equal(2 * 600, NeighbourBudget.Estimate(Scenarios.Load(Star(600))));
    }

    [Fact]
    public void A_lab_over_the_limit_is_warned_with_the_numbers_and_the_sysctls_to_raise()
    {
        var warning = NeighbourBudget.Warning(Scenarios.Load(Star(600)), 1024);

        Assert.NotNull(warning);
        Assert.Contains("at least 1200 neighbour (ARP) entries", warning, StringComparison.Ordinal);
        Assert.Contains("net.ipv4.neigh.default.gc_thresh3 = 1024", warning, StringComparison.Ordinal);
        Assert.Contains("sysctl -w net.ipv4.neigh.default.gc_thresh1=1024 net.ipv4.neigh.default.gc_thresh2=2048 net.ipv4.neigh.default.gc_thresh3=4096", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lab_within_the_limit_or_a_machine_whose_limit_cannot_be_read_is_not_warned()
    {
        Assert.Null(NeighbourBudget.Warning(Scenarios.Load(Star(500)), 1024));
        Assert.Null(NeighbourBudget.Warning(Scenarios.Load(Star(600)), null));
    }
}
