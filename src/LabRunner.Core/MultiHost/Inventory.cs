using System.Collections.Immutable;
using LabRunner.Kinds;
using LabRunner.Loading;
using LabRunner.Model;
using YamlDotNet.RepresentationModel;

namespace LabRunner.MultiHost;

/// <summary>
/// Where the hosts of a lab are (<c>--inventory FILE</c>): each host name a lab's <c>hosts:</c> uses, mapped to an ssh
/// destination, the interface that is its uplink, its underlay address (for <c>${hosts.NAME.address}</c>; the uplink is <c>${hosts.NAME.uplink}</c>) and the
/// command that runs labrunner there. The same lab runs on the local test bed, on VMs and on servers with another
/// inventory. Read with the lab loader's rules and messages (file:line:col, exit 2).
/// </summary>
/// <example>
/// ssh-config: /run/lr-testbed/ssh_config     # optional: passed to ssh as -F
/// hosts:
///   a: { ssh: root@10.0.0.11, uplink: eth0, address: 10.0.0.11, labrunner: labrunner }
/// </example>
public sealed record Inventory(string File, string? SshConfig, ImmutableDictionary<string, InventoryHost> Hosts)
{
    /// <summary>What runs labrunner on a host when the inventory does not say: the tool on PATH.</summary>
    public const string DefaultLabrunner = "labrunner";

    public static Inventory LoadFile(string path)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScenarioInvalidException([new ScenarioError(new SourceSpan(path, 0, 0), $"cannot read the inventory {path}: {e.Message}", "check the path given to --inventory")]);
        }
        return Load(text, path);
    }

    public static Inventory Load(string text, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new ScenarioInvalidException([new ScenarioError(new SourceSpan(file, (int)e.Start.Line, (int)e.Start.Column), $"the inventory is not valid YAML: {(e.InnerException?.Message ?? e.Message).Trim()}")]);
        }
        if (stream.Documents.Count != 1)
            throw new ScenarioInvalidException([new ScenarioError(new SourceSpan(file, 1, 1), "the inventory must be one YAML document", "see docs/MULTI-HOST.md for its format")]);
        var errors = new ErrorList();
        var names = new LabNames(new HashSet<string>(), new HashSet<string>());
        var map = FieldReader.Of(FieldValue.FromYaml(stream.Documents[0].RootNode, file), "an inventory", errors, names);
        var hosts = ImmutableDictionary.CreateBuilder<string, InventoryHost>(StringComparer.Ordinal);
        string? sshConfig = null;
        if (map is not null)
        {
            sshConfig = map.String("ssh-config");
            if (sshConfig is not null && !Path.IsPathRooted(sshConfig))
                sshConfig = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", sshConfig));
            var hostsNode = map.Node("hosts");
            map.RejectUnknownKeys("the inventory (top level)");
            if (hostsNode is not MapValue hostMap)
                errors.Add(hostsNode?.Span ?? map.Span, "'hosts' must map each host name to where it is", "hosts:\n  a: { ssh: root@192.0.2.11, uplink: eth0, address: 192.0.2.11 }");
            else
                foreach (var entry in hostMap.Entries)
                {
                    if (Names.CheckObject(entry.Key, "a host name") is { } bad) errors.Add(entry.KeySpan, bad);
                    var host = FieldReader.Of(entry.Value, $"host '{entry.Key}'", errors, names);
                    if (host is null) continue;
                    var ssh = host.String("ssh", required: true, missingHint: "the ssh destination: user@address, or a Host of the ssh config");
                    var uplink = host.Interface("uplink");
                    var address = host.Ip("address");
                    var labrunner = host.String("labrunner") ?? DefaultLabrunner;
                    host.RejectUnknownKeys($"host '{entry.Key}'");
                    if (ssh is { Length: > 0 } && ssh.StartsWith('-'))
                        errors.Add(host.SpanOf("ssh"), $"ssh destination '{ssh}' starts with '-'", "ssh would read it as an option: give user@address");
                    if (ssh is not null)
                        hosts[entry.Key] = new InventoryHost(entry.Key, ssh, uplink, address, [.. labrunner.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
                }
        }
        if (errors.Count > 0) throw new ScenarioInvalidException([.. errors.Errors]);
        return new Inventory(Path.GetFullPath(file), sshConfig, hosts.ToImmutable());
    }

    /// <summary>The hosts of <paramref name="lab"/>, in its order; a host the inventory lacks is exit 2 at the lab's 'hosts'.</summary>
    public ImmutableArray<InventoryHost> For(Scenario lab)
    {
        var missing = lab.Hosts.Where(h => !Hosts.ContainsKey(h)).ToList();
        if (missing.Count > 0)
            throw new ScenarioInvalidException([new ScenarioError(lab.Span,
                $"the inventory {File} has no host {string.Join(", ", missing.Select(m => $"'{m}'"))} (it has: {string.Join(", ", Hosts.Keys.Order())})",
                "add them to the inventory, or give the inventory written for this lab's hosts")]);
        return [.. lab.Hosts.Select(h => Hosts[h])];
    }
}

/// <summary>One host of an <see cref="Inventory"/>.</summary>
/// <param name="Labrunner">The command that runs labrunner there, as argv (e.g. ["labrunner"] or ["dotnet", "/opt/lr/labrunner.dll"]).</param>
public sealed record InventoryHost(string Name, string Ssh, string? Uplink, string? Address, ImmutableArray<string> Labrunner)
{
    public bool Equals(InventoryHost? other) =>
        other is not null && Name == other.Name && Ssh == other.Ssh && Uplink == other.Uplink && Address == other.Address && Sequences.Equal(Labrunner, other.Labrunner);

    public override int GetHashCode() => HashCode.Combine(Name, Ssh, Uplink, Address, Sequences.Hash(Labrunner));
}
