using System.Globalization;
using System.Runtime.InteropServices;

namespace LabRunner.Platform.Netlink;

/// <summary>
/// Teardown's two other forked commands, done in-process by the netlink driver with the same argv shown: the process
/// runtime's <c>kill -KILL PID…</c> and the sandbox's <c>ip netns delete NAME</c> (a process each cost ~15 ms, a third
/// of a small lab's teardown: docs/PERFORMANCE.md). Exactly these forms; anything else runs as a process.
/// </summary>
public abstract record HostCommand
{
    /// <summary>What it ends with; null when the real command must run after all (nothing was done).</summary>
    public abstract IpResult? Run();

    public static HostCommand? Parse(IReadOnlyList<string> argv) => (argv ?? throw new ArgumentNullException(nameof(argv))).ToArray() switch
    {
        ["kill", "-KILL", .. var pids] when pids.Length > 0 && pids.All(p => IpWords.Pid(p) is not null) => new Kill([.. pids.Select(p => IpWords.Pid(p)!.Value)]),
        ["ip", "netns", "delete", var name] when IpWords.IsNetnsName(name) => new NetnsDelete(name),
        _ => null,
    };

    /// <summary>
    /// procps' <c>kill -KILL PID…</c>: SIGKILL to each; one that fails is <c>kill: (PID): REASON</c> on stderr, and the
    /// exit code is 1 if any failed.
    /// </summary>
    public sealed record Kill(IReadOnlyList<int> Pids) : HostCommand
    {
        private const int SIGKILL = 9;

        public override IpResult Run()
        {
            var errors = new System.Text.StringBuilder();
            foreach (var pid in Pids)
                if (kill(pid, SIGKILL) != 0)
                    errors.Append(CultureInfo.InvariantCulture, $"kill: ({pid}): {Iproute2Errors.StrError(Marshal.GetLastPInvokeError())}\n");
            return new IpResult(errors.Length == 0 ? 0 : 1, "", errors.ToString());
        }

        [DllImport("libc", SetLastError = true)] private static extern int kill(int pid, int sig);
    }

    /// <summary>
    /// <c>ip netns delete NAME</c>, as iproute2's on_netns_del: detach the mount of /var/run/netns/NAME, then unlink it.
    /// When the unlink fails (no such namespace), nothing was removed and ip runs after all, to say it in its own words
    /// (its run directory is a build-time choice: /run/netns on Debian).
    /// </summary>
    public sealed record NetnsDelete(string Name) : HostCommand
    {
        private const int MNT_DETACH = 2;

        public override IpResult? Run()
        {
            var path = $"{IpWords.NetnsRunDirectory}/{Name}";
            _ = umount2(path, MNT_DETACH); // as ip: its failure (not mounted) does not matter
            return unlink(path) == 0 ? IpResult.Ok : null;
        }

        [DllImport("libc", SetLastError = true)] private static extern int umount2(string target, int flags);
        [DllImport("libc", SetLastError = true)] private static extern int unlink(string path);
    }
}
