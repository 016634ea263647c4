using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Reporting;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `wan`, the far side of the sandbox's uplink (issue 12's docker-bridge-nat lab: "the uplink's far side"): a place a
/// lab may work in without making it, reserved as a name, drawn from the step that first uses it, refused with --host.
/// </summary>
public sealed class WanPlaceSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Lab = """
        lab: outside
        steps:
          - title: "1 a bridge"
            actions:
              - bridge-add: br-0
          - title: "2 the outside gets an address"
            actions:
              - address-add: { in: wan, dev: wan0, address: 192.168.64.1/24 }
            expect:
              - ping: { from: wan, to: "${uplink.ip}" }
        """;

    [Fact]
    public async Task In_a_sandbox_wan_is_the_namespace_at_the_far_end_of_the_uplink()
    {
        using var state = new TempDirectory();
        var plan = await Plan.MakeAsync(Scenarios.Load(Lab), state.Path, Ct);

        Assert.Contains($"ip -n lr-{Plan.LabId}_wan addr add 192.168.64.1/24 dev wan0", plan.CommandsFor(CommandPurpose.Action));
        Assert.Contains($"ip -n lr-{Plan.LabId}_wan addr del 192.168.64.1/24 dev wan0", plan.UndoCommands);
    }

    [Fact]
    public async Task With_host_a_lab_that_uses_wan_is_refused_before_anything_runs()
    {
        using var state = new TempDirectory();
        var refused = await Assert.ThrowsAsync<UsageException>(() => Plan.MakeAsync(Scenarios.Load(Lab), state.Path, Ct, sandbox: false));

        Assert.Equal("the lab works in 'wan', the far side of the sandbox's uplink, and with --host there is none", refused.Message);
        Assert.Contains("without --host", refused.Fix);
        Assert.Empty(Directory.EnumerateFileSystemEntries(state.Path));
    }

    [Theory]
    [InlineData("netns-add: wan", "'wan' is reserved for the far side of the sandbox's uplink; choose another netns name")]
    [InlineData("container-run: wan", "'wan' is reserved for the far side of the sandbox's uplink; choose another container name")]
    [InlineData("address-add: { in: wan, dev: eth0, address: 10.0.0.1/24 }", "link 'eth0' does not exist in netns wan at this point")]
    public void Wan_cannot_be_made_and_has_only_its_uplink_end(string action, string message) =>
        Assert.Equal(message, Scenarios.ErrorIn($"""
            lab: outside
            steps:
              - title: t
                actions:
                  - {action}
            """).Message);

    [Fact]
    public void The_picture_draws_wan_with_wan0_from_the_step_that_first_uses_it()
    {
        var scenario = Scenarios.Load(Lab);

        Assert.Equal(["host"], LabTopology.Of(scenario, 1).Nodes.Select(n => n.Label));
        var node = LabTopology.Of(scenario, 2).Nodes.Single(n => n.Label == "netns wan");
        Assert.Equal(["wan0"], node.Links.Select(l => l.Name));
    }
}
