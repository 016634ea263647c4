using System.Text;
using LabRunner.Journal;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>The write-ahead journal: what a crashed run leaves on disk must read back exactly, minus what was cancelled.</summary>
public sealed class JournalSpecs
{
    private static readonly JournalHeader Header =
        new("abc123", 4242, 987654321, "scenarios/article/article.yaml", Sandbox: true, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    private static UndoCommand Delete(string name) =>
        new($"delete link {name} in host", ["ip", "-n", "lr-abc123", "link", "delete", name], ["Cannot find device"],
            new Verification(VerificationKind.Absent, ["ip", "-n", "lr-abc123", "link", "show", "dev", name], null));

    [Fact]
    public void I_can_read_back_a_journal_with_its_header_and_pending_undos_newest_first()
    {
        using var root = new TempDirectory();
        using (var journal = LabJournal.Create(root.Path, Header))
        {
            journal.Append(Delete("veth-1"));
            journal.Append(new UndoRemoveContainer("stop container busybox-1", "process", "abc123/busybox-1"));
            journal.Append(new UndoUnlink("remove /var/run/netns/77", "/var/run/netns/77", "/proc/77/ns/net"));
            Assert.Equal(Path.Combine(root.Path, "abc123"), journal.Directory);
        }

        using var read = LabJournal.Read(Path.Combine(root.Path, "abc123"));

        Assert.Equal(Header, read.Header);
        var pending = read.PendingNewestFirst();
        Assert.Equal(3, pending.Count);
        var unlink = Assert.IsType<UndoUnlink>(pending[0]);
        Assert.Equal(new UndoUnlink("remove /var/run/netns/77", "/var/run/netns/77", "/proc/77/ns/net"), unlink);
        Assert.Equal(new UndoRemoveContainer("stop container busybox-1", "process", "abc123/busybox-1"), Assert.IsType<UndoRemoveContainer>(pending[1]));
        var command = Assert.IsType<UndoCommand>(pending[2]);
        Assert.Equal("delete link veth-1 in host", command.Summary);
        Assert.Equal(["ip", "-n", "lr-abc123", "link", "delete", "veth-1"], command.Argv);
        Assert.Equal(["Cannot find device"], command.Tolerate);
        Assert.Equal(VerificationKind.Absent, command.Verify!.Kind);
        Assert.Equal(["ip", "-n", "lr-abc123", "link", "show", "dev", "veth-1"], command.Verify.Argv);
        Assert.Null(command.Verify.Expected);
    }

    [Fact]
    public void Cancelled_undos_are_not_pending_in_memory_nor_after_reading_back()
    {
        using var root = new TempDirectory();
        IReadOnlyList<string> inMemory;
        using (var journal = LabJournal.Create(root.Path, Header))
        {
            var first = journal.Append(Delete("a"));
            var second = journal.Append(Delete("b"));
            journal.Append(Delete("c"));
            var fourth = journal.Append(Delete("d"));
            Assert.Equal([1, 2, 4], new[] { first, second, fourth });
            journal.Cancel(second);
            journal.Cancel(fourth);
            inMemory = [.. journal.PendingNewestFirst().Select(u => u.Summary)];
        }

        var read = LabJournal.Read(Path.Combine(root.Path, "abc123")).PendingNewestFirst().Select(u => u.Summary);

        Assert.Equal(["delete link c in host", "delete link a in host"], inMemory);
        Assert.Equal(inMemory, read);
    }

    [Fact]
    public void A_torn_last_line_from_a_crash_mid_write_is_ignored()
    {
        using var root = new TempDirectory();
        using (var journal = LabJournal.Create(root.Path, Header))
        {
            journal.Append(Delete("a"));
            journal.Append(Delete("b"));
        }
        var path = Path.Combine(root.Path, "abc123", LabJournal.FileName);
        File.AppendAllText(path, "{\"Seq\":3,\"Undo\":{\"kind\":\"command\",\"Summary\":\"delete li");

        var pending = LabJournal.Read(Path.Combine(root.Path, "abc123")).PendingNewestFirst();

        Assert.Equal(["delete link b in host", "delete link a in host"], pending.Select(u => u.Summary));
    }

    [Fact]
    public void Each_record_is_one_line_on_disk_as_soon_as_it_is_appended()
    {
        using var root = new TempDirectory();
        using var journal = LabJournal.Create(root.Path, Header);
        var path = Path.Combine(root.Path, "abc123", LabJournal.FileName);

        journal.Append(Delete("a"));
        var afterAppend = ReadShared(path);
        journal.Cancel(1);
        var afterCancel = ReadShared(path);

        Assert.Equal(2, afterAppend.Length); // header + undo, before the journal is closed
        Assert.Contains("\"Header\":", afterAppend[0]);
        Assert.Contains("\"kind\":\"command\"", afterAppend[1]);
        Assert.Equal(3, afterCancel.Length);
        Assert.Contains("\"Cancel\":1", afterCancel[2]);
    }

    [Fact]
    public void A_second_journal_for_the_same_lab_id_is_refused()
    {
        using var root = new TempDirectory();
        using var first = LabJournal.Create(root.Path, Header);

        Assert.Throws<IOException>(() => LabJournal.Create(root.Path, Header));
    }

    [Fact]
    public void A_journal_without_header_cannot_be_read()
    {
        using var root = new TempDirectory();
        var dir = Directory.CreateDirectory(Path.Combine(root.Path, "broken")).FullName;
        File.WriteAllText(Path.Combine(dir, LabJournal.FileName), "{\"Seq\":1,\"Undo\":{\"kind\":\"kill\",\"Summary\":\"s\",\"Label\":\"x/y\"}}\n");

        var e = Assert.Throws<InvalidDataException>(() => LabJournal.Read(dir));

        Assert.Contains("has no header line", e.Message);
    }

    [Fact]
    public void Delete_removes_the_runs_directory()
    {
        using var root = new TempDirectory();
        var journal = LabJournal.Create(root.Path, Header);
        journal.Append(Delete("a"));

        journal.Delete();

        Assert.False(Directory.Exists(Path.Combine(root.Path, "abc123")));
        Assert.True(Directory.Exists(root.Path));
    }

    [Fact]
    public void An_in_memory_journal_keeps_records_and_writes_nothing()
    {
        using var journal = LabJournal.InMemory(Header);

        var seq = journal.Append(Delete("a"));
        journal.Append(Delete("b"));
        journal.Cancel(seq);
        journal.Delete();

        Assert.Null(journal.Directory);
        Assert.Equal(["delete link b in host"], journal.PendingNewestFirst().Select(u => u.Summary));
    }

    private static string[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
