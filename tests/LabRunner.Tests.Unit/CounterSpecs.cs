using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `counter` (issue 12): which rule counted the packets. Read from `iptables-save -c`, found by the text iptables
/// writes for the rule (asked of iptables in a throwaway namespace), compared with the step's start or around pings.
/// The engine runs against a runner that plays iptables: its counters move when the specs say so.
/// </summary>
public sealed class CounterSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string LabId = "c0a7e1";

    private const string DropRule = "-A FORWARD -s 10.0.0.3/32 -j DROP";

    private static string Lab(string expect, string actions = "      - iptables-rule: { in: n1, chain: FORWARD, rule: [-s, 10.0.0.3, -j, DROP] }") => $$"""
        lab: counter
        steps:
          - title: n1
            actions:
              - netns-add: n1
          - title: a rule, and packets
            actions:
        {{actions}}
            expect:
              - {{expect}}
        """;

    /// <summary>
    /// Plays iptables in n1: before the rule is added, FORWARD has none; then its counter is <paramref name="packets"/>
    /// (called with how many times iptables-save has been read since). Pings and the canonical form are answered too.
    /// </summary>
    private static RecordingRunner Iptables(Func<int, long> packets, string policy = ":FORWARD DROP [3:252]", string rule = DropRule)
    {
        var added = false;
        var reads = 0;
        return new RecordingRunner(argv =>
        {
            var display = argv.Display();
            if (display.StartsWith($"ip netns exec lr-{LabId}-n1 iptables -t filter -A FORWARD", StringComparison.Ordinal)) added = true;
            if (display == $"ip netns exec lr-{LabId}-n1 iptables-save -c -t filter")
                return RecordingRunner.Ok($"*filter\n:INPUT ACCEPT [0:0]\n{policy}\n:OUTPUT ACCEPT [0:0]\n" +
                                          (added ? $"[{packets(reads++)}:0] {rule}\n" : "") + "COMMIT\n");
            if (argv[0] == "unshare") // sh -c SCRIPT sh TABLE N CHAIN... RULE...: iptables writes the address with its prefix
                return RecordingRunner.Ok("-N LABRUNNER-COUNTER\n-A LABRUNNER-COUNTER " +
                                          string.Join(' ', argv.Skip(8 + int.Parse(argv[7], System.Globalization.CultureInfo.InvariantCulture)).Select(w => w.StartsWith("10.", StringComparison.Ordinal) ? w + "/32" : w)) + "\n");
            return argv.Contains("ping") ? RecordingRunner.Ok("2 packets transmitted, 0 packets received, 100% packet loss\n") : RecordingRunner.Ok();
        });
    }

    private static async Task<(CheckOutcome Check, RecordingRunner Runner)> RunAsync(string lab, RecordingRunner runner) =>
        (Assert.Single(await FakeRuns.LastStepChecksAsync(lab, runner, LabId, Ct)), runner);

    [Fact]
    public async Task A_rule_added_in_the_step_counts_from_zero_and_its_packets_during_the_step_hold()
    {
        var (check, runner) = await RunAsync(Lab("counter: { in: n1, chain: FORWARD, rule: [-s, 10.0.0.3, -j, DROP], packets: 2 }"), Iptables(_ => 2));

        Assert.True(check.Result.Held, check.Result.Observed);
        Assert.Equal($"`{DropRule}` in n1: 0 → 2 packets (+2 during the step)", check.Result.Observed);
        // Read when the step began (the rule not there yet), and after its actions.
        var reads = runner.Displays.Select((d, i) => (d, i)).Where(x => x.d.EndsWith("iptables-save -c -t filter", StringComparison.Ordinal)).Select(x => x.i).ToList();
        var add = runner.Displays.ToList().FindIndex(d => d.Contains("iptables -t filter -A FORWARD", StringComparison.Ordinal));
        Assert.True(reads.Count == 2 && reads[0] < add && reads[1] > add, string.Join("\n", runner.Displays));
    }

    [Fact]
    public async Task A_rule_of_an_earlier_step_is_compared_with_its_count_when_the_step_began()
    {
        const string lab = """
            lab: counter
            steps:
              - title: n1 and the rule
                actions:
                  - netns-add: n1
                  - iptables-rule: { in: n1, chain: FORWARD, rule: [-s, 10.0.0.3, -j, DROP] }
              - title: packets
                actions:
                  - sysctl: { in: n1, key: net.ipv4.ip_forward, value: "1" }
                expect:
                  - counter: { in: n1, chain: FORWARD, rule: [-s, 10.0.0.3, -j, DROP], packets: 2 }
            """;
        var (check, _) = await RunAsync(lab, Iptables(read => read == 0 ? 5 : 7));

        Assert.True(check.Result.Held, check.Result.Observed);
        Assert.Equal($"`{DropRule}` in n1: 5 → 7 packets (+2 during the step)", check.Result.Observed);
    }

    [Fact]
    public async Task A_counter_that_did_not_grow_fails_and_says_it_stayed()
    {
        var (check, runner) = await RunAsync(Lab("counter: { in: n1, chain: FORWARD, rule: [-s, 10.0.0.3, -j, DROP], within: 300ms }"), Iptables(_ => 0));

        Assert.False(check.Result.Held);
        Assert.True(check.Result.Attempts > 1);
        Assert.Single(runner.Commands, c => c.Argv[0] == "unshare"); // the rule's text asked of iptables once, not at every attempt
        Assert.Equal($"`{DropRule}` in n1: 0 → 0 packets (+0 during the step)", check.Result.Observed);
        Assert.Equal("the rule `-s 10.0.0.3 -j DROP` of filter FORWARD in n1 counts packets during the step", check.Result.Expected);
    }

    [Fact]
    public async Task Grew_false_holds_only_while_the_counter_stays()
    {
        var (stayed, _) = await RunAsync(Lab("counter: { in: n1, chain: FORWARD, rule: [-s, 10.0.0.3, -j, DROP], grew: false }"), Iptables(_ => 0));
        var (grew, _) = await RunAsync(Lab("counter: { in: n1, chain: FORWARD, rule: [-s, 10.0.0.3, -j, DROP], grew: false, within: 300ms }"), Iptables(_ => 1));

        Assert.True(stayed.Result.Held, stayed.Result.Observed);
        Assert.False(grew.Result.Held);
    }

    [Fact]
    public async Task With_while_the_counter_is_read_around_the_pings()
    {
        var (check, runner) = await RunAsync(
            Lab("counter: { in: n1, chain: FORWARD, rule: [-s, 10.0.0.3, -j, DROP], while: { ping: { from: n1, to: 10.0.0.2, count: 2 } } }"),
            Iptables(read => read == 0 ? 5 : 7));

        Assert.True(check.Result.Held, check.Result.Observed);
        Assert.Equal($"`{DropRule}` in n1: 5 → 7 packets (+2 during the pings)", check.Result.Observed);
        var observed = runner.Displays.SkipWhile(d => !d.Contains("-A FORWARD", StringComparison.Ordinal)).ToList();
        var ping = observed.FindIndex(d => d.Contains("ping -c 2", StringComparison.Ordinal));
        Assert.True(ping > 0 && observed[..ping].Any(d => d.EndsWith("iptables-save -c -t filter", StringComparison.Ordinal)) &&
                    observed[ping..].Any(d => d.EndsWith("iptables-save -c -t filter", StringComparison.Ordinal)), string.Join("\n", observed));
    }

    [Fact]
    public async Task Without_a_rule_the_chains_policy_counter_is_meant()
    {
        var policy = 3;
        var runner = new RecordingRunner(argv => argv.Display() == $"ip netns exec lr-{LabId}-n1 iptables-save -c -t filter"
            ? RecordingRunner.Ok($"*filter\n:FORWARD DROP [{policy++}:0]\nCOMMIT\n")
            : RecordingRunner.Ok());

        var (check, _) = await RunAsync(Lab("counter: { in: n1, chain: FORWARD }", actions: "      - sysctl: { in: n1, key: net.ipv4.ip_forward, value: \"1\" }"), runner);

        Assert.True(check.Result.Held, check.Result.Observed);
        Assert.StartsWith("policy DROP of filter FORWARD in n1: 3 → ", check.Result.Observed);
    }

    [Fact]
    public async Task A_rule_that_is_not_there_is_named_with_the_rules_the_chain_has()
    {
        var (check, _) = await RunAsync(Lab("counter: { in: n1, chain: FORWARD, rule: [-s, 10.0.0.3, -j, DROP], within: 200ms }",
            actions: "      - iptables-rule: { in: n1, chain: FORWARD, rule: [-s, 10.0.0.4, -j, DROP] }"), Iptables(_ => 1, rule: "-A FORWARD -s 10.0.0.4/32 -j DROP"));

        Assert.False(check.Result.Held);
        Assert.Equal($"no rule `{DropRule}` in filter FORWARD of n1; its rules: -A FORWARD -s 10.0.0.4/32 -j DROP", check.Result.Observed);
    }

    [Fact]
    public async Task The_rules_words_reach_iptables_as_arguments_never_through_a_shell()
    {
        var (_, runner) = await RunAsync(Lab("""counter: { in: n1, chain: FORWARD, rule: [-s, 10.0.0.3, -m, comment, --comment, "it's $HOME; ok", -j, POLICY], within: 100ms }"""),
            Iptables(_ => 1));

        var canonical = runner.Commands.First(c => c.Argv[0] == "unshare").Argv;
        Assert.Equal(["filter", "1", "POLICY", "-s", "10.0.0.3", "-m", "comment", "--comment", "it's $HOME; ok", "-j", "POLICY"], canonical.Skip(6));
        Assert.Equal(["unshare", "-n", "sh", "-c"], canonical.Take(4)); // a throwaway namespace: nothing of the lab's is touched
    }

    [Theory]
    [InlineData("counter: { chain: FORWARD, grew: false, packets: 2 }", "'packets' counts growth")]
    [InlineData("counter: { chain: MINE }", "MINE is not a built-in chain of table filter, so it has no policy to count")]
    [InlineData("counter: { table: nat, chain: FORWARD }", "FORWARD is not a built-in chain of table nat, so it has no policy to count")]
    [InlineData("counter: { chain: FORWARD, rule: [-D, FORWARD, 1] }", "'-D' is an iptables command, not part of a rule")]
    [InlineData("counter: { chain: FORWARD, while: {} }", "'while' needs 'ping'")]
    [InlineData("counter: { rule: [-j, DROP] }", "'chain' is missing")]
    public void A_mistake_is_refused_where_it_is_written(string expectation, string message) =>
        Assert.Equal(message, Scenarios.ErrorIn(Lab(expectation, actions: "      - sysctl: { in: n1, key: net.ipv4.ip_forward, value: \"1\" }")).Message);

    [Fact]
    public void The_CSharp_counter_is_the_YAML_one()
    {
        var yaml = Scenarios.Load("""
            lab: counter
            steps:
              - title: t
                actions:
                  - netns-add: n1
                expect:
                  - counter: { chain: FORWARD, rule: [-s, 10.0.0.3, -j, DROP], packets: 2, while: { ping: { from: n1, to: 10.0.0.2, count: 3 } } }
            """);
        var csharp = Authoring.Lab.Named("counter")
            .Step("t", s => s.Netns("n1").Expect.Counter("FORWARD", ["-s", "10.0.0.3", "-j", "DROP"], packets: 2, pingFrom: "n1", pingTo: "10.0.0.2", pingCount: 3))
            .Build();

        Assert.Equal(yaml.Steps[0].Expectations[0] with { Span = SourceSpan.None }, csharp.Steps[0].Expectations[0] with { Span = SourceSpan.None });
    }
}
