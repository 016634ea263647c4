using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Runtimes;

namespace LabRunner.Tests.Unit;

/// <summary>
/// A container start that fails because the name is taken must not leave its write-ahead undo in the journal:
/// teardown would then remove the container that was there before, someone else's.
/// </summary>
public sealed class ContainerNameClashSpecs
{
    private static readonly JournalHeader Header = new("clash1", 1, 1, "test.yaml", false, DateTimeOffset.UnixEpoch);

    /// <summary>Answers every command with success, except `ctr ... run`, which says the name exists.</summary>
    private sealed class NameTakenRunner(string error) : ICommandRunner
    {
        public bool IsDryRun => false;

        public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default) =>
            Task.FromResult(argv.Contains("run") ? new CommandOutcome(1, "", error, TimeSpan.Zero) : new CommandOutcome(0, "", "", TimeSpan.Zero));

        public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
            throw new NotSupportedException("these specs start no background command");
    }

    [Fact]
    public async Task A_containerd_start_refused_because_the_name_exists_cancels_its_undo()
    {
        using var journal = LabJournal.InMemory(Header);
        var runtime = new ContainerdRuntime(new NameTakenRunner("ctr: snapshot \"busybox-1\": already exists"));

        await Assert.ThrowsAsync<ContainerStartException>(() =>
            runtime.StartAsync(new ContainerStartRequest("clash1", "busybox-1", "busybox-1", "busybox", null), journal, TestContext.Current.CancellationToken));

        Assert.Empty(journal.PendingNewestFirst());
    }

    [Fact]
    public async Task A_containerd_start_that_fails_otherwise_keeps_its_undo_it_may_have_made_something()
    {
        using var journal = LabJournal.InMemory(Header);
        var runtime = new ContainerdRuntime(new NameTakenRunner("ctr: failed to start shim: exec: runc: not found"));

        await Assert.ThrowsAsync<ContainerStartException>(() =>
            runtime.StartAsync(new ContainerStartRequest("clash1", "busybox-1", "busybox-1", "busybox", null), journal, TestContext.Current.CancellationToken));

        Assert.IsType<UndoRemoveContainer>(Assert.Single(journal.PendingNewestFirst()));
    }
}
