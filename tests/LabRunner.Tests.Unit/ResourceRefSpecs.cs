using System.Text.Json;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The object an undo record removes, typed (kind, name, a link's namespace): written to the journal as an object, read
/// back equal, and read from the display string journals of the previous version hold, so `labrunner clean` after an
/// upgrade still releases and attributes what they name.
/// </summary>
public sealed class ResourceRefSpecs
{
    private static readonly JournalHeader Header =
        new("abc123", 4242, 987654321, "lab.yaml", Sandbox: true, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    private static readonly NetTarget Host = new NamedNetnsTarget("host", "lr-abc123");

    public static TheoryData<string, string> Displays() => new()
    {
        { "netns", "netns lr-abc123-n1" },
        { "link", "link veth-1 in lr-abc123" },
        { "link by PID", "link veth-1 in 31875" },
        { "container", "container lr-abc123-busybox-1" },
        { "capture", "capture abc123/capture-1-1" },
    };

    private static ResourceRef Named(string which) => which switch
    {
        "netns" => ResourceRef.ForNetns("lr-abc123-n1"),
        "link" => ResourceRef.ForLink("veth-1", "lr-abc123"),
        "link by PID" => ResourceRef.ForLink("veth-1", "31875"),
        "container" => ResourceRef.ForContainer("lr-abc123-busybox-1"),
        "capture" => ResourceRef.ForCapture("abc123/capture-1-1"),
        _ => throw new ArgumentOutOfRangeException(nameof(which)),
    };

    [Theory]
    [MemberData(nameof(Displays))]
    public void A_resource_reads_as_before_and_is_read_back_from_that_text(string which, string display)
    {
        var resource = Named(which);

        Assert.Equal(display, resource.Display);
        Assert.Equal(display, resource.ToString());
        Assert.Equal(resource, ResourceRef.FromDisplay(display));
    }

    [Fact]
    public void The_engine_names_what_its_undos_remove_with_typed_resources()
    {
        Assert.Equal(ResourceRef.ForNetns("lr-abc123-n1"), ActionExecutor.NetnsResource("lr-abc123-n1"));
        Assert.Equal(ResourceRef.ForLink("veth-1", "lr-abc123"), ActionExecutor.LinkResource(Host, "veth-1"));
        Assert.Equal(ResourceRef.ForLink("veth-1", "4242"), ActionExecutor.LinkResource(new PidTarget("busybox-1", "4242"), "veth-1"));
        Assert.Equal(ResourceRef.ForContainer("lr-abc123-c1"), ActionExecutor.ContainerResource("lr-abc123-c1"));

        var netns = ActionExecutor.DeleteNetns("lr-abc123-n1", "n1").Resource!;
        Assert.Equal((ResourceKind.Netns, "lr-abc123-n1", (string?)null), (netns.Kind, netns.Name, netns.Netns));
        var link = ActionExecutor.DeleteLink(Host, "veth-1").Resource!;
        Assert.Equal((ResourceKind.Link, "veth-1", (string?)"lr-abc123"), (link.Kind, link.Name, link.Netns));
    }

    [Fact]
    public void Only_a_link_has_a_namespace_and_every_resource_has_a_name()
    {
        Assert.ThrowsAny<ArgumentException>(() => ResourceRef.ForLink("veth-1", ""));
        Assert.ThrowsAny<ArgumentException>(() => ResourceRef.ForNetns(""));
        Assert.Null(ResourceRef.FromDisplay("link veth-1"));
        Assert.Null(ResourceRef.FromDisplay("netns a in b"));
        Assert.Null(ResourceRef.FromDisplay("volume data"));
        Assert.Null(ResourceRef.FromDisplay(""));
    }

    [Fact]
    public void The_journal_holds_a_resource_as_an_object_and_reads_it_back_equal()
    {
        using var root = new TempDirectory();
        using (var journal = LabJournal.Create(root.Path, Header))
        {
            journal.Append(ActionExecutor.DeleteLink(Host, "veth-1"));
            journal.Append(ActionExecutor.DeleteNetns("lr-abc123-n1", "n1"));
            journal.Append(new UndoRemoveContainer("stop container c1", "process", "abc123/c1") { Resource = ResourceRef.ForContainer("abc123/c1") });
            journal.Append(new UndoRemoveContainer("stop packet capture on br-0", "process", "abc123/capture-1-1") { Resource = ResourceRef.ForCapture("abc123/capture-1-1") });
        }
        var lines = File.ReadAllLines(Path.Combine(root.Path, "abc123", LabJournal.FileName));

        Assert.Contains("\"Resource\":{\"Kind\":\"link\",\"Name\":\"veth-1\",\"Netns\":\"lr-abc123\"}", lines[1]);
        Assert.Contains("\"Resource\":{\"Kind\":\"netns\",\"Name\":\"lr-abc123-n1\"}", lines[2]);
        Assert.Contains("\"Resource\":{\"Kind\":\"container\",\"Name\":\"abc123/c1\"}", lines[3]);
        Assert.Contains("\"Resource\":{\"Kind\":\"capture\",\"Name\":\"abc123/capture-1-1\"}", lines[4]);
        using var read = LabJournal.Read(Path.Combine(root.Path, "abc123"));
        Assert.False(read.Damaged);
        Assert.Equal(
            [ResourceRef.ForCapture("abc123/capture-1-1"), ResourceRef.ForContainer("abc123/c1"), ResourceRef.ForNetns("lr-abc123-n1"), ResourceRef.ForLink("veth-1", "lr-abc123")],
            read.PendingNewestFirst().Select(u => u.Resource));
    }

    [Fact]
    public void A_journal_of_the_previous_version_with_resources_as_text_is_read_with_typed_resources_and_releases_by_them()
    {
        using var root = new TempDirectory();
        var dir = Directory.CreateDirectory(Path.Combine(root.Path, "02294f")).FullName;
        // Lines as the previous version wrote them (docs/ARCHITECTURE.md §5 before this change).
        File.WriteAllLines(Path.Combine(dir, LabJournal.FileName),
        [
            """{"Header":{"LabId":"02294f","OwnerPid":31330,"OwnerStartTime":275746,"Scenario":"/tmp/j.yaml","Sandbox":true,"Started":"2026-01-02T03:04:05+00:00"},"Seq":0}""",
            """{"Seq":4,"Undo":{"kind":"command","Argv":["ip","netns","delete","lr-02294f-n1"],"Tolerate":["No such file or directory"],"Verify":{"Kind":"PathAbsent","Argv":[],"Expected":"/var/run/netns/lr-02294f-n1"},"Summary":"delete netns n1","Resource":"netns lr-02294f-n1"}}""",
            """{"Seq":5,"Undo":{"kind":"container","Runtime":"process","Id":"02294f/c1","Summary":"stop container c1","Resource":"container lr-02294f-c1"}}""",
            """{"Seq":6,"Undo":{"kind":"unlink","Path":"/var/run/netns/31875","Target":"/proc/31875/ns/net","Summary":"remove /var/run/netns/31875"}}""",
            """{"Seq":7,"Undo":{"kind":"command","Argv":["ip","-n","lr-02294f","link","delete","veth-1"],"Tolerate":["Cannot find device"],"Verify":{"Kind":"Absent","Argv":["ip","-n","lr-02294f","link","show","dev","veth-1"]},"Summary":"delete link veth-1 in host","Resource":"link veth-1 in lr-02294f"}}""",
            """{"Seq":8,"Undo":{"kind":"container","Runtime":"process","Id":"02294f/capture-1-1","Summary":"stop packet capture on br-0","Resource":"capture 02294f/capture-1-1"}}""",
            """{"Seq":9,"Undo":{"kind":"command","Argv":["true"],"Tolerate":[],"Summary":"a resource no version wrote","Resource":"volume data"}}""",
        ]);

        using var journal = LabJournal.Read(dir);

        Assert.False(journal.Damaged, string.Join("; ", journal.Problems));
        Assert.Equal(
            [null, ResourceRef.ForCapture("02294f/capture-1-1"), ResourceRef.ForLink("veth-1", "lr-02294f"), null, ResourceRef.ForContainer("lr-02294f-c1"), ResourceRef.ForNetns("lr-02294f-n1")],
            journal.PendingNewestFirst().Select(u => u.Resource));
        journal.Release(ResourceRef.ForLink("veth-1", "lr-02294f"));
        journal.Release(ResourceRef.ForNetns("lr-02294f-n1"));
        Assert.Equal(["a resource no version wrote", "stop packet capture on br-0", "remove /var/run/netns/31875", "stop container c1"],
            journal.PendingNewestFirst().Select(u => u.Summary));
    }

    [Theory]
    [InlineData("""{"Kind":"volume","Name":"data"}""")]
    [InlineData("""{"Name":"veth-1","Netns":"lr-abc123"}""")]
    [InlineData("""{"Kind":"link","Name":"veth-1"}""")]
    [InlineData("""{"Kind":"netns","Name":"lr-abc123-n1","Netns":"lr-abc123"}""")]
    [InlineData("""{"Kind":"netns","Name":""}""")]
    [InlineData("""{"Kind":"netns","Name":7}""")]
    [InlineData("42")]
    public void A_record_whose_resource_is_not_one_is_named_and_skipped_like_any_garbled_record(string resource)
    {
        using var root = new TempDirectory();
        using (var journal = LabJournal.Create(root.Path, Header))
            journal.Append(ActionExecutor.DeleteNetns("lr-abc123-n2", "n2"));
        var path = Path.Combine(root.Path, "abc123", LabJournal.FileName);
        File.AppendAllText(path, """{"Seq":2,"Undo":{"kind":"command","Argv":["true"],"Tolerate":[],"Summary":"s","Resource":""" + resource + "}}\n");

        using var read = LabJournal.Read(Path.Combine(root.Path, "abc123"));

        Assert.Equal(["delete netns n2"], read.PendingNewestFirst().Select(u => u.Summary));
        Assert.StartsWith("line 3: not a journal record", Assert.Single(read.Problems));
    }

    [Fact]
    public void Fields_a_later_version_adds_to_a_resource_are_ignored()
    {
        var record = JsonSerializer.Deserialize<UndoRecord>(
            """{"kind":"command","Argv":["true"],"Tolerate":[],"Summary":"s","Resource":{"Kind":"link","Name":"eth0","Netns":"lr-abc123","Mtu":{"a":[1]}}}""");

        Assert.Equal(ResourceRef.ForLink("eth0", "lr-abc123"), record!.Resource);
    }
}
