namespace LabRunner.Execution;

/// <summary>
/// A network namespace resolved to how commands reach it: the caller's own, a named one in /var/run/netns
/// (ip -n / ip netns exec), or a process's (nsenter -t PID -n). <see cref="Label"/> is the scenario's name for it.
/// </summary>
public abstract record NetTarget(string Label)
{
    /// <summary>argv for an iproute2 command in this namespace.</summary>
    public abstract IReadOnlyList<string> Ip(params string[] args);

    /// <summary>argv for any other command in this namespace (sysctl, iptables, ping).</summary>
    public abstract IReadOnlyList<string> Exec(params string[] argv);

    /// <summary>What 'ip link set X netns ARG' takes to move a link here: a netns name or a PID.</summary>
    public abstract string NetnsArgument { get; }
}

/// <summary>The namespace labrunner itself runs in (--host mode's host).</summary>
public sealed record CallerTarget(string Label) : NetTarget(Label)
{
    public override IReadOnlyList<string> Ip(params string[] args) => ["ip", .. args];

    public override IReadOnlyList<string> Exec(params string[] argv) => argv;

    // Our own PID names our namespace, which is the host in --host mode (even inside an outer unshare -n).
    public override string NetnsArgument => Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public sealed record NamedNetnsTarget(string Label, string PhysicalName) : NetTarget(Label)
{
    public override IReadOnlyList<string> Ip(params string[] args) => ["ip", "-n", PhysicalName, .. args];

    // ip netns exec also remounts /sys, so tools that read /sys/class/net see this namespace.
    public override IReadOnlyList<string> Exec(params string[] argv) => ["ip", "netns", "exec", PhysicalName, .. argv];

    public override string NetnsArgument => PhysicalName;
}

public sealed record PidTarget(string Label, string Pid) : NetTarget(Label)
{
    public override IReadOnlyList<string> Ip(params string[] args) => ["nsenter", "-t", Pid, "-n", "ip", .. args];

    public override IReadOnlyList<string> Exec(params string[] argv) => ["nsenter", "-t", Pid, "-n", .. argv];

    public override string NetnsArgument => Pid;
}

/// <summary>
/// Where an argv that a <see cref="NetTarget"/> built runs: a named namespace (<c>ip -n NAME …</c>, <c>ip netns exec
/// NAME TOOL …</c>) or a process's (<c>nsenter -t PID -n TOOL …</c>), and the tool. Teardown reads journal records with
/// it: a record whose object lives in a namespace the teardown removes whole is settled by that removal.
/// </summary>
public sealed record TargetedCommand(string? Netns, string? Pid, string Tool)
{
    /// <summary>The namespace and tool of <paramref name="argv"/>, or null for the caller's namespace and any other form.</summary>
    public static TargetedCommand? Of(IReadOnlyList<string> argv) => argv switch
    {
        ["ip", "-n", var name, _, ..] => new TargetedCommand(name, null, "ip"),
        ["ip", "netns", "exec", var name, var tool, ..] => new TargetedCommand(name, null, tool),
        ["nsenter", "-t", var pid, "-n", var tool, ..] => new TargetedCommand(null, pid, tool),
        _ => null,
    };
}
