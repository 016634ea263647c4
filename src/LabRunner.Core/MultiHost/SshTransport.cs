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
