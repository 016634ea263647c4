using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// Whether "ip netns ls" lists a lab namespace, or (with <see cref="Container"/>) the /var/run/netns/PID
/// symlink of a container.
/// </summary>
public sealed record NetnsExpectation(string? Name, string? Container, bool Present) : Expectation
{
    public static readonly ExpectationKind Kind = new("netns", "ip netns list: lists (or not) a lab netns, or a container's /var/run/netns/PID",
        [
            new("name", FieldType.Name, "a netns of the lab (or give 'container')"),
            new("container", FieldType.Container, "a container whose netns symlink is meant (or give 'name')"),
            new("present", FieldType.Boolean, "whether it must be listed (default true)"),
        ],
        r =>
        {
            var name = r.Has("name") ? r.Object("name", "netns") : null;
            var container = r.Has("container") ? r.Container("container") : null;
            if (r.Has("name") == r.Has("container"))
                r.Error(r.Span, "give either 'name' (a lab netns) or 'container' (its /var/run/netns/PID symlink)");
            if (name is not null && !r.Names.Netns.Contains(name)) r.UnknownName(r.SpanOf("name"), name, "netns", r.Names.Netns);
            var present = r.Bool("present") ?? true;
            return name is null && container is null ? null : new NetnsExpectation(name, container, present);
        }, rank: 100);

    public override string Keyword => Kind.Keyword;

    public override string Describe() =>
        (Name is not null ? $"netns {Name}" : $"netns symlink of {Container}") + (Present ? " listed" : " not listed");

    public override void Check(HostModel host)
    {
        // Its /var/run/netns entry is named by its PID, which exists only while it runs.
        if (Container is not null && !host.IsRunning(Container))
            host.Error($"container '{Container}' is not running at this point", "its netns symlink is named by its PID: check it while the container runs");
    }

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var name = Name is not null ? context.Session.PhysicalNetns(Name) : context.Session.Container(Container!).Pid;
        var outcome = await context.CheckAsync(["ip", "netns", "list"], ct);
        var listed = outcome.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToList();
        var present = listed.Contains(name);
        return (present == Present, present ? $"{name} listed" : $"{name} not listed");
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary><c>ip netns ls</c> lists (or with present: false does not list) the lab's netns NAME (YAML <c>netns: {name}</c>).</summary>
    public static ExpectClause Netns(this ExpectationPicker expect, string name, bool present = true, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(NetnsExpectation.Kind, file, line, ("name", name), ("present", present));

    /// <summary>
    /// <c>ip netns ls</c> lists (or with present: false does not list) the /var/run/netns/PID symlink of a
    /// container (YAML <c>netns: {container}</c>).
    /// </summary>
    public static ExpectClause NetnsSymlink(this ExpectationPicker expect, string container, bool present = true, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(NetnsExpectation.Kind, file, line, ("container", container), ("present", present));
}
