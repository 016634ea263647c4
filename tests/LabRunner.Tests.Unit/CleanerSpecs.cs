using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>`labrunner clean` facing journals torn by a kill -9 while they were being created.</summary>
public sealed class CleanerSpecs
{
    private sealed class NothingRunner : ICommandRunner
    {
        public bool IsDryRun => false;

        public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default) =>
            Task.FromResult(new CommandOutcome(0, "", "", TimeSpan.Zero));

        public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
            throw new NotSupportedException("these specs start no background command");
    }

    private static Cleaner CleanerFor(string root) =>
        new(new NothingRunner(), name => Runtimes.ContainerRuntimes.Create(name, new NothingRunner()), root);

    [Fact]
    public async Task A_journal_that_died_before_its_header_was_written_is_removed_and_the_others_still_cleaned()
    {
        using var root = new TempDirectory();
        var torn = Directory.CreateDirectory(Path.Combine(root.Path, "aaaaaa")).FullName;
        File.WriteAllText(Path.Combine(torn, LabJournal.FileName), "{\"Header\":{\"LabId\":\"aaa"); // torn mid-line
        // A dead run's journal beside it (PID 0 is never a live run).
        using (var dead = LabJournal.Create(root.Path, new JournalHeader("bbbbbb", 0, 0, "x.yaml", true, DateTimeOffset.UtcNow)))
            dead.Append(new UndoCommand("delete netns lr-bbbbbb", ["ip", "netns", "delete", "lr-bbbbbb"], [], null));

        var cleaned = await CleanerFor(root.Path).CleanAsync(ct: TestContext.Current.CancellationToken);

        Assert.Equal(["aaaaaa", "bbbbbb"], cleaned.Select(c => c.LabId));
        Assert.All(cleaned, c => Assert.True(c.Report.Clean));
        Assert.Empty(Directory.GetDirectories(root.Path));
    }

    [Fact]
    public async Task A_journal_being_created_right_now_is_left_alone()
    {
        using var root = new TempDirectory();
        var fresh = Directory.CreateDirectory(Path.Combine(root.Path, "cccccc")).FullName;
        // Its run holds it open while it writes the header.
        using var open = new FileStream(Path.Combine(fresh, LabJournal.FileName), FileMode.CreateNew, FileAccess.Write, FileShare.Read);

        var cleaned = await CleanerFor(root.Path).CleanAsync(ct: TestContext.Current.CancellationToken);

        Assert.Empty(cleaned);
        Assert.True(Directory.Exists(fresh));
    }
}
