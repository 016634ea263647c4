using System.Collections.Immutable;

namespace LabRunner.Model;

/// <summary>A lab: an ordered list of steps run against one host. Immutable; built by the YAML loader or in code.</summary>
public sealed record Scenario(
    string Name,
    string? Description,
    Uplink Uplink,
    ImmutableArray<Step> Steps,
    SourceSpan Span)
{
    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(Scenario? other) =>
        other is not null && Name == other.Name && Description == other.Description && Uplink == other.Uplink && Sequences.Equal(Steps, other.Steps) &&
        Span == other.Span && Runtime == other.Runtime && Sequences.Equal(Hosts, other.Hosts) &&
        HostUplinks.Count == other.HostUplinks.Count && !HostUplinks.Except(other.HostUplinks).Any();

    public override int GetHashCode() => HashCode.Combine(Name, Description, Uplink, Sequences.Hash(Steps), Span, Runtime, Sequences.Hash(Hosts));

    /// <summary>
    /// A lab across hosts (<c>hosts:</c>) names them here, and every action and expectation says which it is
    /// <see cref="LabAction.OnHost"/>; empty for a lab on one host. Where each host is comes from an inventory (MultiHost/).
    /// </summary>
    public ImmutableArray<string> Hosts { get; init; } = [];

    /// <summary>
    /// The hosts whose uplink is not the lab's <see cref="Uplink"/> name (the inventory's <c>uplink</c>), by host: their
    /// parts are played, and checked, with that name.
    /// </summary>
    public ImmutableDictionary<string, string> HostUplinks { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>
    /// This lab's part on <paramref name="host"/>: the same steps (titles, numbers), each with only what runs there, and
    /// the host's uplink name.
    /// </summary>
    public Scenario PartOn(string host) => this with
    {
        Hosts = [],
        HostUplinks = ImmutableDictionary<string, string>.Empty,
        Uplink = HostUplinks.TryGetValue(host, out var uplink) ? Uplink with { Name = uplink } : Uplink,
        Steps = [.. Steps.Select(s => s with
        {
            Actions = [.. s.Actions.Where(a => a.OnHost == host).Select(a => a with { OnHost = null })],
            Expectations = [.. s.Expectations.Where(e => e.OnHost == host).Select(e => e with { OnHost = null })],
        })],
    };

    /// <summary>The container runtime the lab asks for (process, containerd, docker); --runtime overrides it.</summary>
    public string? Runtime { get; init; }

    public IEnumerable<LabAction> AllActions => Steps.SelectMany(s => s.Actions);
}

/// <summary>
/// The host's way out, standing for the article's ens3 with 192.168.64.6/24. In a sandbox the engine
/// creates it; with --host it names an existing interface whose address is read at run time.
/// </summary>
public sealed record Uplink(string Name, string Address)
{
    public static readonly Uplink Default = new("ens3", "192.168.64.6/24");

    public string Ip => Address.Split('/')[0];
}

public sealed record Step(
    string Title,
    string? Text,
    ImmutableArray<LabAction> Actions,
    ImmutableArray<Expectation> Expectations,
    SourceSpan Span)
{
    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(Step? other) =>
        other is not null && Title == other.Title && Text == other.Text && Sequences.Equal(Actions, other.Actions) &&
        Sequences.Equal(Expectations, other.Expectations) && Span == other.Span;

    public override int GetHashCode() => HashCode.Combine(Title, Text, Sequences.Hash(Actions), Sequences.Hash(Expectations), Span);

    /// <summary>
    /// The step's own number, as the lab names it: the title's first word when it is a number like "3.4" or "0" (a
    /// trailing '.' or ':' dropped), as the article numbers its sections; null when the title starts otherwise.
    /// </summary>
    public string? Number => StepNumbers.Of(Title);

    /// <summary>The title without its own number ("ARP is correct" for "3.4 ARP is correct"; empty for a title that is only one).</summary>
    public string Heading
    {
        get
        {
            if (Number is null) return Title;
            var title = Title.TrimStart();
            var space = title.IndexOfAny([' ', '\t']);
            return space < 0 ? "" : title[space..].Trim();
        }
    }
}

/// <summary>Step numbers: "3.4", "0", "12.1.2": digits separated by single dots.</summary>
public static class StepNumbers
{
    /// <summary>The number a title starts with (see <see cref="Step.Number"/>), or null.</summary>
    public static string? Of(string title)
    {
        var trimmed = title.TrimStart();
        var end = trimmed.IndexOfAny([' ', '\t']);
        var word = (end < 0 ? trimmed : trimmed[..end]).TrimEnd('.', ':');
        return IsNumber(word) ? word : null;
    }

    /// <summary>Digits, optionally in dot-separated groups ("3", "3.4", "3.4.1"), no sign, no empty group.</summary>
    public static bool IsNumber(string text) =>
        text.Length is > 0 and <= 32 && text.Split('.').All(g => g.Length > 0 && g.All(char.IsAsciiDigit));
}
