using LabRunner.Execution;

namespace LabRunner.MultiHost;

/// <summary>
/// <c>labrunner clean --hosts [ID] --inventory FILE</c>: every host of the inventory cleans, at once and with its own
/// labrunner, what dead parts of lab ID (or every dead run, without ID) left there, from that host's journals. Nothing
/// is said to be left nowhere unless every host answered so; a host that cannot be reached is named (exit 4).
/// </summary>
public sealed class HostsCleaner(Inventory inventory, TextWriter output)
{
    private readonly ICommandRunner _runner = new CliWrapCommandRunner();

    /// <summary>How long a part still tearing itself down (its controller just went) is waited for before it is cleaned.</summary>
    public static readonly TimeSpan LiveWait = TimeSpan.FromSeconds(30);

    public async Task<int> CleanAsync(string? id, CancellationToken ct)
    {
        var control = ControlDirectories.Create("clean");
        var ssh = new SshTransport(inventory.SshConfig, control);
        try
        {
            // A killed controller's ssh masters and their sockets: ended and removed first.
            foreach (var stale in ControlDirectories.Stale())
            {
                await ControlDirectories.RemoveAsync(stale, ssh, inventory.Hosts.Values, _runner);
                output.WriteLine($"removed {stale}: the ssh master sockets of a controller that is gone");
            }
            var hosts = inventory.Hosts.Values.OrderBy(h => h.Name, StringComparer.Ordinal).ToList();
            var results = await Task.WhenAll(hosts.Select(h => CleanHostAsync(ssh, h, id is null ? null : $"{id}-{h.Name}", _runner, ct)));
            foreach (var (host, result) in hosts.Zip(results))
                output.WriteLine($"{host.Name} ({host.Ssh}): {result.Summary}" + string.Concat(result.Lines.Select(l => $"\n    {l}")));
            var bad = hosts.Zip(results).Where(x => !x.Second.Clean).Select(x => x.First.Name).ToList();
            output.WriteLine(bad.Count == 0 ? $"nothing {(id is null ? "of a dead run" : $"of lab {id}")} is left on any host ({string.Join(", ", hosts.Select(h => h.Name))})"
                : $"left behind or not known on: {string.Join(", ", bad)}; run this again once they answer");
            return bad.Count == 0 ? 0 : 4;
        }
        finally
        {
            await ControlDirectories.RemoveAsync(control, ssh, inventory.Hosts.Values, _runner);
        }
    }

    public sealed record HostClean(bool Clean, string Summary, IReadOnlyList<string> Lines);

    /// <summary>
    /// One host's <c>labrunner clean [PART-ID]</c>. A part that is still live (its labrunner is tearing down after the
    /// controller went) is waited for; a part the host has no journal of left nothing there that a journal names.
    /// </summary>
    internal static async Task<HostClean> CleanHostAsync(SshTransport ssh, InventoryHost host, string? partId, ICommandRunner runner, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + LiveWait;
        while (true)
        {
            var outcome = await runner.RunAsync([.. ssh.Labrunner(host, partId is null ? ["clean"] : ["clean", partId])], CommandPurpose.Teardown, ct);
            var lines = (outcome.Stdout + "\n" + outcome.Stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (outcome.ExitCode == 0) return new(true, "clean", lines);
            if (outcome.ExitCode == 255) return new(false, $"unreachable over ssh: {outcome.Error}", []);
            if (outcome.ExitCode == 2 && outcome.Stderr.Contains($"no run {partId}", StringComparison.Ordinal))
                return new(true, $"no run {partId} there: its part ended and was torn down, or never started", []);
            if (outcome.ExitCode == 2 && outcome.Stderr.Contains("is live", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500, ct);
                continue;
            }
            return new(false, $"exit {outcome.ExitCode}", lines);
        }
    }
}
