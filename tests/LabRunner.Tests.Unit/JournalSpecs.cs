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
    public void A_journal_without_header_is_read_by_its_directorys_name_and_says_so()
    {
        using var root = new TempDirectory();
        var dir = Directory.CreateDirectory(Path.Combine(root.Path, "0a1b2c")).FullName;
        File.WriteAllText(Path.Combine(dir, LabJournal.FileName), "{\"Header\":{garbled\n{\"Seq\":1,\"Undo\":{\"kind\":\"unlink\",\"Summary\":\"s\",\"Path\":\"/var/run/netns/1\",\"Target\":\"/proc/1/ns/net\"}}\n");

        using var journal = LabJournal.Read(dir);

        Assert.False(journal.HasHeader);
        Assert.True(journal.Damaged);
        Assert.Equal("0a1b2c", journal.Header.LabId);
        Assert.Contains(journal.Problems, p => p.Contains("no readable header", StringComparison.Ordinal));
        Assert.Single(journal.PendingNewestFirst()); // the records after it still count
    }

    [Theory]
    [InlineData("{\"Seq\":2,\"Undo\":{\"Summary\":\"no kind\",\"Path\":\"/x\",\"Target\":\"/y\"}}", "line 3: not a journal record")]
    [InlineData("{\"Seq\":2,\"Undo\":{\"kind\":\"reboot\",\"Summary\":\"unknown kind\"}}", "line 3: not a journal record")]
    [InlineData("this is not JSON", "line 3: not a journal record")]
    [InlineData("{\"Nothing\":1}", "line 3: a record of no known kind")]
    public void A_bad_record_is_named_by_its_line_and_skipped_and_the_rest_still_read(string bad, string problem)
    {
        using var root = new TempDirectory();
        using (var journal = LabJournal.Create(root.Path, Header))
            journal.Append(Delete("a"));
        var path = Path.Combine(root.Path, "abc123", LabJournal.FileName);
        File.AppendAllText(path, bad + "\n");
        File.AppendAllText(path, "{\"Seq\":3,\"Undo\":{\"kind\":\"unlink\",\"Summary\":\"after\",\"Path\":\"/var/run/netns/1\",\"Target\":\"/proc/1/ns/net\"}}\n");

        using var read = LabJournal.Read(Path.Combine(root.Path, "abc123"));

        Assert.True(read.HasHeader);
        Assert.Contains(read.Problems, p => p.StartsWith(problem, StringComparison.Ordinal));
        Assert.Equal(["after", "delete link a in host"], read.PendingNewestFirst().Select(u => u.Summary));
    }

    [Fact]
    public void A_last_line_cut_off_mid_write_is_named_as_such()
    {
        using var root = new TempDirectory();
        using (var journal = LabJournal.Create(root.Path, Header))
            journal.Append(Delete("a"));
        File.AppendAllText(Path.Combine(root.Path, "abc123", LabJournal.FileName), "{\"Seq\":2,\"Undo\":{\"kind\":\"comm");

        using var read = LabJournal.Read(Path.Combine(root.Path, "abc123"));

        Assert.Equal(["line 3: cut off (the run died while writing it; its action was not done yet)"], read.Problems);
        Assert.Single(read.PendingNewestFirst());
    }

    /// <summary>
    /// `clean` and host snapshots read journals while runs create and remove theirs. They must never catch one half
    /// made or half removed (a directory without its header), which they would take for a dead run's (issue 9: the
    /// snapshot flake "run journals: +/run/labrunner/c37854").
    /// </summary>
    [Fact]
    public async Task A_reader_never_sees_a_journal_being_created_or_removed()
    {
        using var root = new TempDirectory();
        var ct = TestContext.Current.CancellationToken;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var seen = new List<string>();
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var journal = LabJournal.Create(root.Path, Header with { LabId = $"{w}{i % 1000:x5}" });
                journal.Append(Delete("a"));
                journal.Delete();
            }
        }, ct)).ToList();
        var reads = 0;
        while (!stop.IsCancellationRequested)
        {
            foreach (var dir in LabJournal.Directories(root.Path))
            {
                try
                {
                    using var journal = LabJournal.Read(dir);
                    if (!journal.HasHeader) seen.Add($"{Path.GetFileName(dir)}: {string.Join("; ", journal.Problems)}");
                    reads++;
                }
                catch (IOException) when (!Directory.Exists(dir))
                {
                    // removed (renamed away) between the listing and the read: it was whole until then
                }
                catch (IOException e)
                {
                    seen.Add($"{Path.GetFileName(dir)}: {e.Message}");
                }
            }
        }
        await Task.WhenAll(writers);

        Assert.True(reads > 100, $"only {reads} journals read");
        Assert.Empty(seen);
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

    [Fact]
    public void The_step_a_run_started_last_reads_back_and_owes_nothing()
    {
        using var root = new TempDirectory();
        var header = Header with { Lab = "article", Runtime = "containerd" };
        using (var journal = LabJournal.Create(root.Path, header))
        {
            journal.StepStarted(new JournalStep(1, 25, "0", "0 The article's host runs Docker"));
            journal.Append(Delete("veth-1"));
            journal.StepStarted(new JournalStep(8, 25, null, "Section 1 is removed, except br-0"));
            Assert.Equal(8, journal.CurrentStep!.Position);
        }

        using var read = LabJournal.Read(Path.Combine(root.Path, "abc123"));

        Assert.Equal(header, read.Header);
        Assert.Equal(("article", "containerd"), (read.Header.Lab, read.Header.Runtime));
        Assert.Equal(new JournalStep(8, 25, null, "Section 1 is removed, except br-0"), read.CurrentStep);
        Assert.Equal(["delete link veth-1 in host"], read.PendingNewestFirst().Select(u => u.Summary)); // a step line is no undo
        Assert.False(read.Damaged);
    }

    [Fact]
    public void A_journal_of_an_earlier_version_has_no_lab_runtime_or_step_and_is_not_damaged()
    {
        using var root = new TempDirectory();
        var dir = Directory.CreateDirectory(Path.Combine(root.Path, "0a9e01")).FullName;
        File.WriteAllText(Path.Combine(dir, LabJournal.FileName),
            """{"Header":{"LabId":"0a9e01","OwnerPid":0,"OwnerStartTime":0,"Scenario":"x.yaml","Sandbox":true,"Started":"2026-01-02T03:04:05+00:00"},"Seq":0}""" + "\n");

        using var read = LabJournal.Read(dir);

        Assert.Null(read.Header.Lab);
        Assert.Null(read.Header.Runtime);
        Assert.Null(read.CurrentStep);
        Assert.False(read.Damaged);
    }
}
