using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>Cases found by reading the docs against the code: each was accepted and then failed (or misled) at run time.</summary>
public sealed class ValidationFindingsSpecs
{
    [Fact]
    public void Within_given_both_beside_and_inside_an_expectation_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                expect:
                  - ping: { from: host, to: 192.168.64.6, within: 2s }
                    within: 3s
            """);

        error.At(6, 17);
        Assert.Contains("'within' is given twice", error.Message);
    }

    [Fact]
    public void A_neighbor_with_both_mac_and_mac_of_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                expect:
                  - neighbor: { ip: 172.16.100.1, mac: "aa:bb:cc:dd:ee:ff", mac-of: { link: ens3 } }
            """);

        Assert.Equal("give either 'mac' or 'mac-of', not both", error.Message);
    }

    [Fact]
    public void A_command_inside_a_container_with_an_undo_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - container-run: c1
                  - command: { in: c1, argv: [touch, /tmp/x], undo: [rm, /tmp/x] }
            """);

        error.At(6, 9);
        Assert.Contains("cannot have an undo", error.Message);
    }

    [Fact]
    public void A_netns_symlink_check_of_a_stopped_container_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - container-run: c1
                  - container-stop: c1
                expect:
                  - netns: { container: c1, present: false }
            """);

        error.At(8, 9);
        Assert.Equal("container 'c1' is not running at this point", error.Message);
    }

    [Fact]
    public void A_netns_symlink_that_must_fail_does_not_count_as_made()
    {
        var scenario = Scenarios.Load("""
            lab: x
            steps:
              - title: a
                actions:
                  - container-run: c1
                  - netns-symlink: c1
                    fails-with: "File exists"
                  - netns-symlink: c1
            """);

        Assert.Equal(3, scenario.AllActions.Count());
    }
}
