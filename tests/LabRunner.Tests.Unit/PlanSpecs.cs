using System.Text.RegularExpressions;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `labrunner plan`: the real engine with a dry-run runner. The golden files under Golden/ hold each article
/// scenario's full plan (sandbox setup, actions, checks, teardown); the specs below state its properties.
/// </summary>
public sealed class PlanSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<Plan> PlanOfAsync(string fileName, bool sandbox = true)
    {
        using var state = new TempDirectory();
        return await Plan.MakeAsync(ScenarioLoader.LoadFile(Repo.Article(fileName)), state.Path, Ct, sandbox);
    }

    [Theory]
    [MemberData(nameof(Repo.ArticleScenarioNames), MemberType = typeof(Repo))]
    public async Task The_plan_of_each_article_scenario_matches_its_golden_file(string fileName)
    {
        var plan = await PlanOfAsync(fileName);

        Golden.Verify(Path.GetFileNameWithoutExtension(fileName) + ".plan.txt", plan.ToText());
    }

    [Fact]
    public async Task The_plan_of_the_article_on_the_host_shows_the_articles_own_commands()
    {
        var plan = await PlanOfAsync("article.yaml", sandbox: false);

        Golden.Verify("article.host.plan.txt", plan.ToText());
        var actions = plan.CommandsFor(CommandPurpose.Action);
        Assert.Equal(
            ["ip netns add n1", "ip link add name veth-1 type veth peer name veth-2", "ip link set dev veth-2 up netns n1",
             "ip link add name veth-3 type veth peer name veth-1", "ip link add name br-0 type bridge"],
            actions.Where(c => c.StartsWith("ip ", StringComparison.Ordinal)).Take(5));
        Assert.Empty(plan.CommandsFor(CommandPurpose.Setup));
    }

    [Theory]
    [MemberData(nameof(Repo.ArticleScenarioNames), MemberType = typeof(Repo))]
    public async Task A_plan_passes_and_lists_every_action(string fileName)
    {
        var plan = await PlanOfAsync(fileName);

        Assert.Equal(LabOutcome.Passed, plan.Result.Outcome);
        Assert.Empty(plan.Result.Failures);
        Assert.True(plan.Result.Teardown.Clean);
        Assert.Equal(plan.Scenario.AllActions.Count(), plan.Events.OfType<PlanAction>().Count());
        Assert.Equal(plan.Scenario.Steps.Sum(s => s.Expectations.Length), plan.Events.OfType<PlanExpectation>().Count());
    }

    [Theory]
    [MemberData(nameof(Repo.ArticleScenarioNames), MemberType = typeof(Repo))]
    public async Task A_plan_touches_no_file(string fileName)
    {
        using var temp = new TempDirectory();
        var stateRoot = Path.Combine(temp.Path, "state");

        await Plan.MakeAsync(ScenarioLoader.LoadFile(Repo.Article(fileName)), stateRoot, Ct);

        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path)); // not even the state directory
    }

    [Fact]
    public async Task A_plan_is_the_same_every_time()
    {
        var first = await PlanOfAsync("article.yaml");
        var second = await PlanOfAsync("article.yaml");

        Assert.Equal(first.ToText(), second.ToText());
    }

    [Theory]
    [MemberData(nameof(Repo.ArticleScenarioNames), MemberType = typeof(Repo))]
    public async Task The_teardown_deletes_every_namespace_the_lab_adds_and_does_not_delete_itself_and_the_sandbox_last(string fileName)
    {
        var plan = await PlanOfAsync(fileName);
        var teardown = plan.CommandsFor(CommandPurpose.Teardown);
        var actions = plan.Commands.Where(c => c.Purpose != CommandPurpose.Teardown).Select(c => c.Display).ToList();

        var added = actions.Select(c => Regex.Match(c, "^ip netns add (\\S+)$")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(plan.Scenario.AllActions.OfType<NetnsAdd>().Count() + 2, added.Count);
        foreach (var netns in added)
        {
            // Deleted by the lab itself (article.yaml's "Section 1 is removed") or by teardown, exactly once.
            var deletions = actions.Count(c => c == $"ip netns delete {netns}") + teardown.Count(c => c == $"ip netns delete {netns}");
            Assert.True(deletions == 1, $"{netns} is deleted {deletions} times");
        }
        Assert.Equal([$"ip netns delete lr-{Plan.LabId}_wan", $"ip netns delete lr-{Plan.LabId}"], teardown.TakeLast(2));
    }

    [Theory]
    [MemberData(nameof(Repo.ArticleScenarioNames), MemberType = typeof(Repo))]
    public async Task The_teardown_stops_every_container_and_removes_every_netns_symlink(string fileName)
    {
        var plan = await PlanOfAsync(fileName);
        var teardown = plan.CommandsFor(CommandPurpose.Teardown);

        var kill = teardown.SingleOrDefault(t => t.StartsWith("kill -KILL ", StringComparison.Ordinal))?.Split(' ') ?? [];
        foreach (var run in plan.Scenario.AllActions.OfType<ContainerRun>())
            Assert.Contains($"<{run.Name}.pid>", kill);
        foreach (var link in plan.Scenario.AllActions.OfType<NetnsSymlink>())
            Assert.Contains($"rm /var/run/netns/<{link.Container}.pid>", teardown);
    }

    /// <summary>
    /// Derives, independently of the engine, the undo of every command that changes something, and checks that the
    /// teardown is exactly those undos, newest first: nothing missing, nothing extra, nothing out of order.
    /// </summary>
    [Theory]
    [MemberData(nameof(Repo.ArticleScenarioNames), MemberType = typeof(Repo))]
    public async Task The_teardown_is_the_exact_reverse_of_what_the_lab_did(string fileName)
    {
        var plan = await PlanOfAsync(fileName);

        var undos = new List<string>();
        var pending = new List<PlanCommand>();
        foreach (var e in plan.Events)
        {
            switch (e)
            {
                case PlanCommand { Purpose: CommandPurpose.Setup } c:
                    if (UndoOfSetup(c.Argv) is { } setupUndo) undos.Add(setupUndo);
                    break;
                case PlanCommand { Purpose: CommandPurpose.Action } c:
                    pending.Add(c);
                    break;
                case PlanAction a:
                    // A plan assumes an action that must fail does fail: it makes nothing, so nothing is undone.
                    if (a.Action.ExpectedError is null) undos.AddRange(pending.Select(c => UndoOf(a.Action, c.Argv)).OfType<string>());
                    // A delete action releases the undos of what it deleted so far: teardown must not delete it again.
                    if (a.Action is NetnsDelete or LinkDelete) undos.RemoveAll(u => pending.Any(c => c.Display == u));
                    pending.Clear();
                    break;
            }
        }
        undos.Reverse();

        Assert.Empty(pending);
        // Every undo was journalled, newest first; those of a namespace the teardown removes whole went with it.
        var settled = plan.Result.Teardown.SettledCommands;
        Assert.Equal(undos.Where(settled.Contains), settled);
        Assert.Equal(InTeardownOrder(undos.Where(u => !settled.Contains(u))), plan.CommandsFor(CommandPurpose.Teardown));
    }

    /// <summary>
    /// The teardown's phases (<see cref="TeardownOrder"/>): the undos left, newest first; then the containers, all
    /// in one kill; then the namespaces, newest first.
    /// </summary>
    private static List<string> InTeardownOrder(IEnumerable<string> undosNewestFirst)
    {
        var all = undosNewestFirst.ToList();
        var kills = all.Where(u => u.StartsWith("kill -KILL ", StringComparison.Ordinal)).ToList();
        var namespaces = all.Where(u => u.StartsWith("ip netns delete ", StringComparison.Ordinal)).ToList();
        return
        [
            .. all.Where(u => !kills.Contains(u) && !namespaces.Contains(u)),
            .. kills.Count == 0 ? [] : new[] { "kill -KILL " + string.Join(' ', kills.Select(k => k["kill -KILL ".Length..])) },
            .. namespaces,
        ];
    }

    [Fact]
    public async Task An_action_that_must_fail_leaves_no_undo_in_the_plan()
    {
        var plan = await PlanOfAsync("01-veth-bridge.yaml");

        Assert.Single(plan.UndoCommands, "ip -n lr-test01 link delete dev veth-3");
        Assert.Equal(10, plan.Events.OfType<PlanTeardown>().Single().Records);
    }

    [Fact]
    public async Task An_action_that_must_fail_is_shown_with_its_expected_error()
    {
        var plan = await PlanOfAsync("02-container-host.yaml");

        var failing = plan.Events.OfType<PlanAction>().Single(a => a.Action.ExpectedError is not null);

        Assert.Equal(ActionStatus.FailedAsExpected, failing.Outcome.Status);
        Assert.Equal("Cannot open network namespace \"<busybox-1.pid>\": No such file or directory", failing.Outcome.Observed);
    }

    /// <summary>In a sandbox, nothing may run in the caller's network namespace: only the lab's own namespaces are touched.</summary>
    [Theory]
    [MemberData(nameof(Repo.ArticleScenarioNames), MemberType = typeof(Repo))]
    public async Task In_a_sandbox_every_command_stays_in_the_labs_own_namespaces(string fileName)
    {
        var plan = await PlanOfAsync(fileName);
        var id = Plan.LabId;
        string[] allowed =
        [
            $"^ip netns (add|delete) lr-{id}([-_][a-z0-9-]+)?$",
            $"^ip -n lr-{id}([-_][a-z0-9-]+)? ",
            $"^ip netns exec lr-{id} ",
            "^nsenter -t <[a-z0-9-]+\\.pid> -n ",
            "^setsid unshare --net --uts --ipc -- busybox sleep \\d+$",
            "^setsid nsenter -t <[a-z0-9-]+\\.pid> -n -- unshare --uts --ipc -- busybox sleep \\d+$",
            "^kill -KILL( <[a-z0-9-]+\\.pid>)+$",
            "^ln -s /proc/<(?<c>[a-z0-9-]+)\\.pid>/ns/net /var/run/netns/<\\k<c>\\.pid>$",
            "^rm /var/run/netns/<[a-z0-9-]+\\.pid>$",
        ];

        var escaping = plan.Commands.Select(c => c.Display).Where(c => !allowed.Any(p => Regex.IsMatch(c, p))).ToList();

        Assert.Empty(escaping);
    }

    private static string? UndoOfSetup(IReadOnlyList<string> argv) => argv switch
    {
        ["ip", "netns", "add", var netns] => $"ip netns delete {netns}",
        ["ip", "-n", var netns, "link", "add", "name", var name, "type", "veth", ..] => $"ip -n {netns} link delete dev {name}",
        _ => null, // lo up, the uplink's address and state go with the namespace and the link
    };

    private static string? UndoOf(LabAction action, IReadOnlyList<string> argv)
    {
        // The part of argv that selects the namespace ("ip -n X", "ip netns exec X", "nsenter -t PID -n"), or "".
        string[] Prefix(string tool) => [.. argv.Take(LastIndexOf(argv, tool))];
        string Undo(string[] prefix, params string[] rest) => ((IEnumerable<string>)[.. prefix, .. rest]).Display();
        string LinkName() => argv[LastIndexOf(argv, "link") + 3]; // link add name X / link set dev X
        return action switch
        {
            NetnsAdd => $"ip netns delete {argv[^1]}",
            VethAdd or BridgeAdd => Undo(Prefix("link"), "link", "delete", "dev", LinkName()),
            LinkMove => argv[^1].StartsWith('<')
                ? $"nsenter -t {argv[^1]} -n ip link delete dev {LinkName()}"
                : $"ip -n {argv[^1]} link delete dev {LinkName()}",
            BridgeAttach => Undo(Prefix("link"), "link", "set", "dev", LinkName(), "nomaster"),
            AddressAdd => Undo(Prefix("addr"), "addr", "del", argv[^3], "dev", argv[^1]),
            RouteAdd => Undo(Prefix("route"), ["route", "del", .. argv.Skip(LastIndexOf(argv, "route") + 2)]),
            SysctlSet s => Undo(Prefix("sysctl"), "sysctl", "-w", $"{s.Key}=<old {s.Key}>"),
            IptablesPolicy p => Undo(Prefix("iptables"), "iptables", "-t", p.Table, "-P", p.Chain, "<old policy>"),
            ContainerRun c => $"kill -KILL <{c.Name}.pid>",
            NetnsSymlink => $"rm {argv[^1]}",
            RunCommand { Undo: { } undo } c => Undo([.. argv.Take(argv.Count - c.Argv.Length)],
                [.. undo.Select(u => Templates.Expand(u, r => r == Templates.UplinkIp ? "192.168.64.6" : $"<{r}>"))]),
            _ => null, // link-up/down, link-delete, netns-delete, bridge-detach, container-stop, undo: none
        };
    }

    private static int LastIndexOf(IReadOnlyList<string> argv, string word)
    {
        for (var i = argv.Count - 1; i >= 0; i--)
            if (argv[i] == word) return i;
        throw new InvalidOperationException($"'{word}' not in `{argv.Display()}`");
    }
}
