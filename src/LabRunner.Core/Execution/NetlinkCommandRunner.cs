using System.Diagnostics;
using LabRunner.Platform.Netlink;

namespace LabRunner.Execution;

/// <summary>
/// The netlink driver: runs the <c>ip</c> argv it knows exactly (<see cref="IpCommand.Parse"/>) in-process over
/// rtnetlink, with no process forked, and hands every other argv to <paramref name="inner"/> unchanged. Each command
/// is reported with its own argv and purpose, so plans, transcripts, reports and bundles show the same `ip` commands
/// whichever driver ran them; what it prints and its exit code are iproute2's for the same outcome, so <c>fails-with</c>
/// texts and teardown's "already gone" texts hold with either. Its events carry <see cref="CommandEvent.Driver"/> "netlink".
/// </summary>
/// <remarks>
/// One socket per command, opened in the command's namespace and closed right after (<see cref="SocketChannel"/>): a
/// socket kept open would keep its namespace, and the links in it, alive after the lab deleted it.
/// </remarks>
public sealed class NetlinkCommandRunner(ICommandRunner inner, Action<CommandEvent>? onCommand = null) : ICommandRunner
{
    /// <summary>The value of <see cref="CommandEvent.Driver"/> for the commands it ran itself.</summary>
    public const string DriverName = "netlink";

    public bool IsDryRun => inner.IsDryRun;

    public async Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
    {
        if (inner.IsDryRun) return await inner.RunAsync(argv, purpose, ct);
        var watch = Stopwatch.StartNew();
        IpResult? result;
        if (PingCommand.Parse(argv) is { } ping) result = await IcmpPing.RunAsync(ping, ct); // busybox ping's exchange, in-process
        else if (HostCommand.Parse(argv) is { } host) // kill -KILL, ip netns delete: syscalls
        {
            if ((result = host.Run()) is null) return await inner.RunAsync(argv, purpose, ct);
        }
        else if (IpCommand.Parse(argv) is not { } command) return await inner.RunAsync(argv, purpose, ct);
        else if ((result = await RunAsync(command, ct)) is null) return await inner.RunAsync(argv, purpose, ct); // only ip can tell
        var outcome = new CommandOutcome(result.ExitCode, result.Stdout, result.Stderr, watch.Elapsed);
        onCommand?.Invoke(new CommandEvent(purpose, [.. argv], outcome) { Driver = DriverName });
        return outcome;
    }

    /// <summary>Runs <paramref name="command"/> in its namespace; null when iproute2 must run it after all (nothing was sent).</summary>
    public static async Task<IpResult?> RunAsync(IpCommand command, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(command);
        ct.ThrowIfCancellationRequested();
        SocketChannel channel;
        try
        {
            channel = SocketChannel.Open(command.Where);
        }
        catch (NetlinkException e)
        {
            // ip -n or nsenter could not get into the namespace: their words, their exit code.
            return IpResult.Failed(command.Where.SwitchFailureExitCode, e.Message);
        }
        using (channel)
        {
            try
            {
                return await command.Operation.RunAsync(channel, ct);
            }
            catch (NetlinkException e)
            {
                return IpResult.Refused(e);
            }
            catch (Exception e) when (e is TimeoutException or NetlinkProtocolException)
            {
                return IpResult.Failed(1, $"netlink: {e.Message}");
            }
        }
    }

    public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, string input, CancellationToken ct = default) =>
        inner.RunAsync(argv, purpose, input, ct);

    public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
        inner.StartAsync(argv, purpose, start, ct);
}
