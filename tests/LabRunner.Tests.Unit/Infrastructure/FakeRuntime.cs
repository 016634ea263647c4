using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Runtimes;

namespace LabRunner.Tests.Unit.Infrastructure;

/// <summary>
/// A container runtime in memory: containers by id with their lab, or a daemon that is down (every question is then
/// "cannot tell"). For teardown and `clean` specs that must not touch the machine's runtimes.
/// </summary>
public sealed class FakeRuntime(string name) : IContainerRuntime
{
    private readonly Dictionary<string, string> _labOf = new(StringComparer.Ordinal);

    public string Name => name;

    /// <summary>Set to a reason to play a daemon that does not answer.</summary>
    public string? Down { get; set; }

    public IReadOnlyCollection<string> Ids => _labOf.Keys;

    public FakeRuntime With(string id, string labId)
    {
        _labOf[id] = labId;
        return this;
    }

    public bool MayHoldContainers => true;

    public Task PrepareAsync(CancellationToken ct = default) => Task.CompletedTask;

    public Task SeedImageAsync(CancellationToken ct = default) => Task.CompletedTask;

    public Task<ContainerHandle> StartAsync(ContainerStartRequest request, LabJournal journal, CancellationToken ct = default) =>
        throw new NotSupportedException("the fake runtime starts nothing");

    public Task<CommandOutcome> ExecAsync(ContainerHandle container, IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default) =>
        throw new NotSupportedException("the fake runtime runs nothing");

    public Task StopAsync(ContainerHandle container, CancellationToken ct = default) => RemoveAsync(container.Id, ct);

    public Task<string?> RemoveAsync(string id, CancellationToken ct = default)
    {
        if (Down is { } why) return Task.FromResult<string?>($"`{name} rm {id}` failed: {why}");
        _labOf.Remove(id);
        return Task.FromResult<string?>(null);
    }

    public Task<Presence> FindAsync(string id, CancellationToken ct = default) =>
        Task.FromResult(Down is { } why ? Presence.Unknown(why) : _labOf.ContainsKey(id) ? Presence.Present : Presence.Absent);

    public Task<LabContainers> ListLabAsync(string labId, CancellationToken ct = default) =>
        Task.FromResult(Down is { } why
            ? LabContainers.Unknown(why)
            : new LabContainers([.. _labOf.Where(c => c.Value == labId).Select(c => new LabContainer(c.Key, null))]));
}
