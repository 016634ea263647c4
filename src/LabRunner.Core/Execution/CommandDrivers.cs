namespace LabRunner.Execution;

/// <summary>
/// How `ip` commands run: <c>netlink</c> (the default: in-process over rtnetlink, <see cref="NetlinkCommandRunner"/>,
/// for the argv it knows; iproute2 for the rest) or <c>iproute2</c> (every one forked). Chosen with <c>--driver</c>, else
/// <c>$LABRUNNER_DRIVER</c>, so a whole test suite can be run with either.
/// </summary>
public static class CommandDrivers
{
    public const string Netlink = "netlink";
    public const string Iproute2 = "iproute2";
    public const string Default = Netlink;
    public const string EnvironmentVariable = "LABRUNNER_DRIVER";

    public static readonly IReadOnlyList<string> Names = [Netlink, Iproute2];

    /// <summary><c>$LABRUNNER_DRIVER</c>, or the default when it is unset or empty.</summary>
    /// <exception cref="ArgumentException">It names no driver (the message lists them).</exception>
    public static string FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(value)) return Default;
        return Names.Contains(value) ? value : throw new ArgumentException(Unknown($"{EnvironmentVariable}={value}"));
    }

    /// <summary>"X is not a driver: use netlink or iproute2".</summary>
    public static string Unknown(string what) => $"{what} is not a driver: use {string.Join(" or ", Names)}";

    /// <summary>The runner for <paramref name="driver"/> over <paramref name="real"/> (the runner that forks); a dry run is never wrapped.</summary>
    public static ICommandRunner Create(string driver, ICommandRunner real, Action<CommandEvent>? onCommand) => driver switch
    {
        _ when real.IsDryRun => real,
        Netlink => new NetlinkCommandRunner(real, onCommand),
        Iproute2 => real,
        _ => throw new ArgumentException(Unknown(driver), nameof(driver)),
    };
}
