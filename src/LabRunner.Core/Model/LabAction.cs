using LabRunner.Execution;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// Something a step does to the host. Each kind is a record in a file of its own (src/LabRunner.Core/Kinds/Actions)
/// that holds everything about it: its keyword and fields (its static <c>Kind</c>), what it checks and changes in
/// the <see cref="HostModel"/> (<see cref="Apply"/>), and its commands with the undo journalled first
/// (<see cref="RunAsync"/>). Both are abstract: a kind without validation or undo does not compile.
/// <see cref="ExpectedError"/> marks an action that must fail with that text (the article's
/// "RTNETLINK answers: File exists" is a step of the lab, not an accident).
/// </summary>
public abstract record LabAction
{
    public SourceSpan Span { get; init; } = SourceSpan.None;

    /// <summary>When set, the action must fail and its error output must contain this text.</summary>
    public string? ExpectedError { get; init; }

    /// <summary>In a lab with <see cref="Scenario.Hosts"/>: the host it runs on (<c>on:</c>); null in a one-host lab.</summary>
    public string? OnHost { get; init; }

    /// <summary>The YAML key of this action, used in messages and the reference.</summary>
    public abstract string Keyword { get; }

    /// <summary>
    /// Checks the action against the model of the host at its point in the lab (what must exist, what it may
    /// change) and applies what it creates, moves or removes. While <see cref="HostModel.Fails"/> (the action must
    /// fail) it checks but changes nothing.
    /// </summary>
    public abstract void Apply(HostModel host);

    /// <summary>
    /// Does it: each change through <see cref="ActionContext.DoAsync"/> with its undo (journalled before the command
    /// runs), each removal through <see cref="ActionContext.ReleaseAsync"/>. In a plan (dry run) the same code
    /// produces the commands without running them.
    /// </summary>
    public abstract Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct);

    /// <summary>Texts that may hold ${NAME.pid}: checked against when each container runs.</summary>
    public virtual IEnumerable<string?> Templated => [];

    /// <summary>The netns or container this action creates (named in other steps' 'in:'), or null.</summary>
    public virtual Place? Declares => null;

    /// <summary>Tools the action runs besides iproute2 and util-linux (the environment check names their packages).</summary>
    public virtual IEnumerable<Tool> Tools => [];

    /// <summary>Kernel features the action needs that some kernels lack (the environment check probes them before anything runs).</summary>
    public virtual IEnumerable<KernelFeature> KernelFeatures => [];

    /// <summary>Whether the action needs the container runtime (its daemon and image are prepared before the lab starts).</summary>
    public virtual bool UsesContainerRuntime => false;

    /// <summary>
    /// Whether a container started before this action ran would start the same as one started after it: true for
    /// actions that only make or wire links, addresses and routes in existing namespaces. A step's containers are
    /// forked when the step begins (they start at once, not one after the other) up to its first action that is not.
    /// </summary>
    public virtual bool LeavesNewContainersAlone => false;

    /// <summary>
    /// With --host (the caller's own namespace), what of this action's names already exists there: the lab would
    /// change or delete something it did not make, so it refuses to start.
    /// </summary>
    public virtual Task<IReadOnlyList<string>> HostClashesAsync(IHostProbe host, CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([]);

    /// <summary>For a kind that makes link <paramref name="name"/> in <paramref name="place"/>: a clash when, with --host, the host has it already.</summary>
    protected async Task<IReadOnlyList<string>> NewLinkClashesAsync(IHostProbe host, Place place, string name, CancellationToken ct) =>
        place.Kind == PlaceKind.Host && ExpectedError is null && await host.LinkExistsAsync(name, ct) ? [$"link {name} ({Span})"] : [];
}

/// <summary>A program a kind runs, and the Debian package that has it.</summary>
public sealed record Tool(string Name, string Package);

/// <summary>
/// A kernel feature a kind needs that not every kernel has (a link type, a qdisc), with the probe that tells: shell
/// commands run in a fresh, throwaway network namespace (<c>unshare -n</c>), which build a veth pair <c>probe0</c>/
/// <c>probe1</c> first. When the probe fails, the environment check stops the lab before anything is built (exit 3)
/// and says what the kernel lacks and how to get it.
/// </summary>
/// <param name="Name">What the lab needs, as a person says it: "802.1Q VLAN links".</param>
/// <param name="Config">The kernel option that builds it, e.g. CONFIG_VLAN_8021Q.</param>
/// <param name="Module">The module that has it, for <c>modprobe</c>.</param>
/// <param name="Probe">Shell commands that succeed only on a kernel with the feature (run after the veth pair exists).</param>
public sealed record KernelFeature(string Name, string Config, string Module, string Probe)
{
    public static readonly KernelFeature Vlan = new("802.1Q VLAN links (ip link add ... type vlan)", "CONFIG_VLAN_8021Q", "8021q",
        "ip link add link probe0 name probe0.10 type vlan id 10");

    public static readonly KernelFeature Ipvlan = new("ipvlan links (ip link add ... type ipvlan)", "CONFIG_IPVLAN", "ipvlan",
        "ip link add link probe0 name probe2 type ipvlan mode l2");

    public static readonly KernelFeature Netem = new("the netem qdisc (tc qdisc ... netem)", "CONFIG_NET_SCH_NETEM", "sch_netem",
        "tc qdisc add dev probe0 root netem delay 1ms");
}
