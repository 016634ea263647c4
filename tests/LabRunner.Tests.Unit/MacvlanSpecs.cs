using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>`macvlan-add` (issue 12): a link with a MAC of its own on a parent, deleted at teardown.</summary>
public sealed class MacvlanSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Lab(string actions) => $$"""
        lab: macvlan
        uplink: { name: ens3, address: 192.168.64.6/24 }
        steps:
          - title: macvlans
            actions:
              - container-run: c1
        {{actions}}
        """;

    [Fact]
    public async Task A_macvlan_is_made_on_its_parent_and_deleted_at_teardown()
    {
        using var state = new TempDirectory();
        var plan = await Plan.MakeAsync(Scenarios.Load(Lab("""
                  - macvlan-add: { name: m1, link: ens3 }
                  - link-move: { name: m1, to: c1, up: true }
            """)), state.Path, Ct);

        Assert.Contains("ip -n lr-test01 link add name m1 link ens3 type macvlan mode bridge", plan.CommandsFor(CommandPurpose.Action));
        Assert.Contains("nsenter -t <c1.pid> -n ip link delete dev m1", plan.UndoCommands); // where it was moved
    }

    [Theory]
    [InlineData("macvlan-add: { name: m1, link: eth9 }", "link 'eth9' does not exist in host at this point")]
    [InlineData("macvlan-add: { name: m1, link: ens3, mode: source }", "unknown macvlan mode 'source'")]
    [InlineData("macvlan-add: { link: ens3 }", "'name' is missing")]
    public void A_mistake_is_refused_where_it_is_written(string action, string message) =>
        Assert.Equal(message, Scenarios.ErrorIn(Lab("      - " + action)).Message);

    [Fact]
    public void The_CSharp_macvlan_is_the_YAML_one()
    {
        var yaml = Scenarios.Load(Lab("      - macvlan-add: { name: m1, link: ens3, mode: private }"));
        var csharp = Authoring.Lab.Named("macvlan").WithUplink("ens3", "192.168.64.6/24")
            .Step("macvlans", s => s.Container("c1").Macvlan("m1", "ens3", mode: "private"))
            .Build();

        Assert.Equal(yaml.Steps[0].Actions[1] with { Span = SourceSpan.None }, csharp.Steps[0].Actions[1] with { Span = SourceSpan.None });
    }
}
