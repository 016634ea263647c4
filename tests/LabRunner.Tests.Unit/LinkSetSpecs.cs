using LabRunner.Authoring;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Kinds;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `link-set`, the kind added after the one-home-per-kind redesign as its worked example (docs/ARCHITECTURE.md §11):
/// its fields and messages in YAML and C#, its validation, its plan, and the undo it builds from the link's old values.
/// </summary>
public sealed class LinkSetSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Lab(string linkSet) => $"""
        lab: mtu
        steps:
          - title: a veth pair with a smaller MTU
            actions:
              - veth-add: {"{"} name: veth-1, peer: veth-2 {"}"}
              - link-set: {linkSet}
        """;

    [Fact]
    public void A_link_set_reads_every_field_it_declares()
    {
        var scenario = Scenarios.Load(Lab("{ name: veth-1, mtu: 1400, address: 02:00:00:00:00:01, txqueuelen: 500, alias: small }"));

        var set = Assert.IsType<LinkSet>(scenario.Steps[0].Actions[1]);
        Assert.Equal(new LinkSet("veth-1", Place.Host, 1400, "02:00:00:00:00:01", 500, "small"), set with { Span = SourceSpan.None });
        Assert.Equal("link-set", set.Keyword);
    }

    [Fact]
    public void A_link_set_that_sets_nothing_is_refused_where_it_is_written()
    {
        var error = Scenarios.ErrorIn(Lab("{ name: veth-1 }"));

        error.At(6, 19);
        Assert.Equal("link-set changes nothing", error.Message);
        Assert.Equal("give at least one of mtu, address, txqueuelen or alias", error.Hint);
    }

    [Theory]
    [InlineData("{ name: veth-1, mtu: 20 }", "'mtu' must be a whole number from 68 to 65535, not '20'")]
    [InlineData("{ name: veth-1, address: 02:00:00:00:00:0G }", "'02:00:00:00:00:0G' is not a MAC address like 3e:79:d5:dd:06:f6")]
    [InlineData("{ name: veth-1, txqueuelen: -1 }", "'txqueuelen' must be a whole number from 0 to 100000000, not '-1'")]
    [InlineData("{ name: veth-1, mtu: 1400, color: red }", "unknown key 'color' in 'link-set'")]
    public void A_wrong_value_gets_the_shared_message(string fields, string message) =>
        Assert.Equal(message, Scenarios.ErrorIn(Lab(fields)).Message);

    [Fact]
    public void The_same_rules_and_messages_apply_to_the_CSharp_method()
    {
        var builder = Authoring.Lab.Named("mtu").Step("s", s => s.Veth("veth-1", "veth-2").SetLink("veth-1", mtu: 20));

        var error = Assert.Single(Assert.Throws<ScenarioInvalidException>(() => builder.Build()).Errors);

        Assert.Equal("'mtu' must be a whole number from 68 to 65535, not '20'", error.Message);
        Assert.Contains("LinkSetSpecs.cs", error.Span.File);
    }

    [Fact]
    public void A_CSharp_link_set_is_the_same_record_as_the_YAML_one()
    {
        var yaml = Scenarios.Load(Lab("{ name: veth-2, mtu: 9000, in: n1 }").Replace("veth-add: { name: veth-1, peer: veth-2 }", "netns-add: n1\n      - veth-add: { name: veth-1, peer: veth-2, peer-in: n1 }"));
        var csharp = Authoring.Lab.Named("mtu").Step("s", s => s.Netns("n1").Veth("veth-1", "veth-2", peerIn: "n1").SetLink("veth-2", mtu: 9000).In("n1")).Build();

        Assert.Equal(yaml.Steps[0].Actions[^1] with { Span = SourceSpan.None }, csharp.Steps[0].Actions[^1] with { Span = SourceSpan.None });
    }

    [Fact]
    public void Only_a_link_the_lab_made_may_be_set_on_the_host()
    {
        var error = Scenarios.ErrorIn(Lab("{ name: ens3, mtu: 1400 }"));

        Assert.Equal("cannot set 'ens3': this lab did not create it", error.Message);
    }

    [Fact]
    public void A_link_that_is_not_there_yet_is_a_flow_error()
    {
        var error = Scenarios.ErrorIn(Lab("{ name: veth-9, mtu: 1400 }"));

        error.At(6, 9);
        Assert.Equal("link 'veth-9' does not exist in host at this point", error.Message);
    }

    [Fact]
    public async Task The_plan_reads_the_old_values_then_journals_their_restore_before_setting_the_new_ones()
    {
        using var state = new TempDirectory();
        var plan = await Plan.MakeAsync(Scenarios.Load(Lab("{ name: veth-1, mtu: 1400, alias: small }")), state.Path, Ct);

        Assert.Contains("ip -n lr-test01 -j -d link show dev veth-1", plan.CommandsFor(CommandPurpose.Check));
        Assert.Contains("ip -n lr-test01 link set dev veth-1 mtu 1400 alias small", plan.CommandsFor(CommandPurpose.Action));
        Assert.Contains("ip -n lr-test01 link set dev veth-1 mtu '<old mtu>' alias '<old alias>'", plan.UndoCommands);
    }

    [Fact]
    public async Task The_undo_restores_the_values_the_link_had_and_clears_an_alias_it_had_not()
    {
        var runner = new OneAnswer("""[{"ifname":"veth-1","mtu":1500,"address":"3e:79:d5:dd:06:f6","txqlen":1000}]""");
        var journal = LabJournal.InMemory(new JournalHeader("test01", 1, 1, "lab.yaml", true, DateTimeOffset.UtcNow));
        var session = new LabSession("test01", true, Uplink.Default);
        var action = new LinkSet("veth-1", Place.Host, 1400, "02:00:00:00:00:01", 500, "small");

        var outcome = await action.RunAsync(new ActionContext(session, journal, runner, new ProcessRuntime(runner), mustFail: false), Ct);

        Assert.True(outcome.Succeeded);
        var undo = Assert.IsType<UndoCommand>(Assert.Single(journal.PendingNewestFirst()));
        Assert.Equal(["ip", "-n", "lr-test01", "link", "set", "dev", "veth-1", "mtu", "1500", "address", "3e:79:d5:dd:06:f6", "txqueuelen", "1000", "alias", ""], undo.Argv);
        Assert.Equal("ip -n lr-test01 link set dev veth-1 mtu 1400 address 02:00:00:00:00:01 txqueuelen 500 alias small", runner.Ran[^1]);
    }

    /// <summary>Answers every command with the same output: the link's JSON for the read, nothing for the set.</summary>
    private sealed class OneAnswer(string json) : ICommandRunner
    {
        public List<string> Ran { get; } = [];

        public bool IsDryRun => false;

        public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
        {
            Ran.Add(argv.Display());
            return Task.FromResult(new CommandOutcome(0, purpose == CommandPurpose.Check ? json : "", "", TimeSpan.Zero));
        }

        public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
            throw new NotSupportedException();
    }

    [Theory]
    [InlineData(1450, true, "state UNKNOWN, flags <BROADCAST,MULTICAST,UP,LOWER_UP>, no master, mtu 1450")]
    [InlineData(1500, false, "state UNKNOWN, flags <BROADCAST,MULTICAST,UP,LOWER_UP>, no master, mtu 1450")]
    public async Task The_link_expectation_checks_an_mtu_when_given(int mtu, bool held, string observed)
    {
        var runner = new RecordingRunner(argv => argv.Display() == "ip -n lr-1ab001 -j -d link show dev vx0"
            ? RecordingRunner.Ok("""[{"ifindex":5,"ifname":"vx0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"operstate":"UNKNOWN","linkinfo":{"info_kind":"vxlan"}}]""")
            : RecordingRunner.Ok());

        var check = Assert.Single(await FakeRuns.LastStepChecksAsync($$"""
            lab: mtu
            steps:
              - title: a vxlan
                actions:
                  - vxlan-add: { name: vx0, id: 42 }
                expect:
                  - link: { name: vx0, mtu: {{mtu}}, within: 200ms }
            """, runner, "1ab001", TestContext.Current.CancellationToken));

        Assert.Equal((held, observed), (check.Result.Held, check.Result.Observed));
        Assert.Equal($"vx0 present in host: mtu {mtu}", check.Result.Expected);
    }
}
