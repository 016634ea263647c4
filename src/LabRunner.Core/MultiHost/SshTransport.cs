using System.Collections.Immutable;

namespace LabRunner.MultiHost;

/// <summary>
/// How the controller reaches a host: the system's OpenSSH client, nothing of our own. One master connection per host
/// (ControlMaster, its socket in <see cref="ControlDirectory"/>), shared by the part's session and every other command;
/// BatchMode (never a password prompt: a key or the agent, as the user's ~/.ssh/config says), the inventory's ssh
/// config when it names one (-F), keep-alives so a dead connection is noticed in ~15 s. The remote command is one
/// string for the remote shell: every word is single-quoted.
/// </summary>
public sealed record SshTransport(string? ConfigFile, string ControlDirectory)
{
    /// <summary>How long an idle master stays after the last session: a killed controller leaves none for longer.</summary>
    public const string ControlPersist = "10s";

    public ImmutableArray<string> Options =>
    [
        .. ConfigFile is null ? Array.Empty<string>() : ["-F", ConfigFile],
        "-o", "BatchMode=yes",
        "-o", "ControlMaster=auto",
        "-o", $"ControlPath={ControlDirectory}/%C",
        "-o", $"ControlPersist={ControlPersist}",
        "-o", "ServerAliveInterval=5",
        "-o", "ServerAliveCountMax=3",
        "-o", "ConnectTimeout=10",
    ];

    /// <summary>ssh's argv that runs <paramref name="remote"/> on <paramref name="host"/>.</summary>
    public ImmutableArray<string> Command(InventoryHost host, IEnumerable<string> remote) =>
        ["ssh", .. Options, "--", host.Ssh, string.Join(' ', remote.Select(Quote))];

    /// <summary>Asks the host's master connection to end (at the end of a run: no ssh process outlives it).</summary>
    public ImmutableArray<string> ExitMaster(InventoryHost host) => ["ssh", .. Options, "-O", "exit", "--", host.Ssh];

    /// <summary>labrunner's argv on <paramref name="host"/> with <paramref name="args"/>.</summary>
    public ImmutableArray<string> Labrunner(InventoryHost host, params string[] args) => Command(host, [.. host.Labrunner, .. args]);

    /// <summary>A word for a POSIX shell: single-quoted, a quote inside written as '\''.</summary>
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or '=' or ':' or ',' or '@')
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary>
/// The directory of a controller's ssh master sockets (/tmp/lr-ssh-…), with an <c>owner</c> file (its PID and start
/// time). A controller removes its own at the end; one killed leaves it, with masters that end 10 s after their last
/// session. <c>clean --hosts</c> finds those of dead controllers (<see cref="Stale"/>), ends their masters and removes them.
/// </summary>
public static class ControlDirectories
{
    private const string Prefix = "lr-ssh-";

    public static string Create(string name)
    {
        var dir = Directory.CreateTempSubdirectory($"{Prefix}{name}-").FullName;
        var pid = Environment.ProcessId;
        File.WriteAllText(Path.Combine(dir, "owner"), $"{pid} {Platform.Processes.StartTime(pid) ?? 0}\n");
        return dir;
    }

    /// <summary>Control directories whose owner is gone (a controller killed): nothing in them serves anyone.</summary>
    public static IReadOnlyList<string> Stale() =>
        [.. Directory.EnumerateDirectories(Path.GetTempPath(), Prefix + "*").Where(dir =>
        {
            var owner = File.Exists(Path.Combine(dir, "owner")) ? File.ReadAllText(Path.Combine(dir, "owner")).Split(' ', StringSplitOptions.TrimEntries) : [];
            return owner.Length == 2 && int.TryParse(owner[0], out var pid) && long.TryParse(owner[1], out var start) && !Platform.Processes.IsRunning(pid, start);
        })];

    /// <summary>Ends the masters of <paramref name="hosts"/> in <paramref name="dir"/> (ssh -O exit), then removes it.</summary>
    public static async Task RemoveAsync(string dir, SshTransport ssh, IEnumerable<InventoryHost> hosts, Execution.ICommandRunner runner)
    {
        if (Directory.EnumerateFileSystemEntries(dir).Any(e => Path.GetFileName(e) != "owner"))
            await Task.WhenAll(hosts.Select(h => runner.RunAsync([.. (ssh with { ControlDirectory = dir }).ExitMaster(h)], Execution.CommandPurpose.Teardown, CancellationToken.None)));
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // A socket a master still holds is removed by the master itself; the directory goes next time.
        }
    }
}
