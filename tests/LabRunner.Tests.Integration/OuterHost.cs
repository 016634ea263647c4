using LabRunner.Platform;

namespace LabRunner.Tests.Integration;

/// <summary>
/// A namespace of the test's own that plays a dedicated VM for --host runs (never the machine's namespace):
/// lo up, and the article's uplink ens3 192.168.64.6/24 whose far end wan0 is in a second namespace.
/// Deleted, with both namespaces, at dispose.
/// </summary>
public sealed class OuterHost(string prefix) : IAsyncDisposable
{
    public string Name { get; } = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    private string Wan => Name + "-w";

    /// <summary>argv prefix that runs a command inside this namespace.</summary>
    public string[] Enter => ["nsenter", $"--net=/var/run/netns/{Name}"];

    public async Task CreateAsync(CancellationToken ct)
    {
        if (!Processes.IsRoot) return;
        foreach (var argv in new[]
                 {
                     ["ip", "netns", "add", Name], ["ip", "netns", "add", Wan],
                     ["ip", "-n", Name, "link", "add", "ens3", "type", "veth", "peer", "name", "wan0", "netns", Wan],
                     ["ip", "-n", Name, "addr", "add", "192.168.64.6/24", "dev", "ens3"],
                     ["ip", "-n", Name, "link", "set", "ens3", "up"], ["ip", "-n", Wan, "link", "set", "wan0", "up"],
                     new[] { "ip", "-n", Name, "link", "set", "lo", "up" },
                 })
            Assert.Equal(0, await LabCli.ShAsync(argv, ct));
    }

    public async ValueTask DisposeAsync()
    {
        if (!Processes.IsRoot) return;
        await LabCli.ShAsync(["ip", "netns", "delete", Wan]);
        await LabCli.ShAsync(["ip", "netns", "delete", Name]);
    }
}
