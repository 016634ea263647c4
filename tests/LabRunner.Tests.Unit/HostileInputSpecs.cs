using LabRunner.Loading;
using LabRunner.Reliability;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// Hostile files are rejected (exit 2 in the CLI), with a position, in bounded time and memory, and never crash the
/// process: alias bombs, deep nesting, a 50 MB file, binary bytes, invalid UTF-8, endless devices, error floods.
/// docs/RELIABILITY.md has the measured times and peak memory of the CLI on each.
/// </summary>
public sealed class HostileInputSpecs
{
    /// <summary>
    /// A bound on work done (bytes allocated: deterministic, unlike seconds on a shared 2-core machine). Time is
    /// measured, not asserted: `scripts/reliability.sh hostile` and docs/RELIABILITY.md.
    /// </summary>
    private const long MaxAllocatedBytes = 300L << 20;

    public static TheoryData<string> Cases() => [.. HostileFiles.Kinds.Where(k => !HostileFiles.IsScript(k))];

    public static TheoryData<string> Scripts() => [.. HostileFiles.Kinds.Where(HostileFiles.IsScript)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_hostile_file_is_rejected_with_a_position_in_bounded_time_and_memory(string kind)
    {
        using var dir = new TempDirectory();
        var path = HostileFiles.Write(kind, dir.Path);
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        var errors = Assert.Throws<ScenarioInvalidException>(() => ScenarioLoader.LoadFile(path)).Errors;

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.All(errors, e => Assert.True(e.Span.Line > 0, $"no position: {e}"));
        Assert.True(errors.Length <= ScenarioLoader.MaxErrors + 1, $"{errors.Length} errors listed");
        Assert.True(allocated < MaxAllocatedBytes, $"{kind}: {allocated >> 20} MiB allocated");
    }

    /// <summary>Compiling a script costs more than reading YAML: the script must give up at its timeout (a loading that never returns fails the test), not allocate without end.</summary>
    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task A_hostile_script_is_rejected_with_a_position_within_its_timeout(string kind)
    {
        using var dir = new TempDirectory();
        var path = HostileFiles.Write(kind, dir.Path);

        // WaitAsync is a liveness bound (a script that escaped its timeout would never return), not a speed assertion.
        var errors = (await Assert.ThrowsAsync<ScenarioInvalidException>(() =>
            Scripting.LabFiles.LoadAsync(path, TestContext.Current.CancellationToken, TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken))).Errors;

        var error = Assert.Single(errors);
        Assert.True(error.Span.Line > 0, $"no position: {error}");
    }

    [Fact]
    public void An_alias_bomb_is_refused_at_its_first_anchor()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<ScenarioInvalidException>(() => ScenarioLoader.LoadFile(HostileFiles.Write("alias-bomb", dir.Path))).Errors[0];
        Assert.Equal(2, error.Span.Line);
        Assert.StartsWith("YAML anchor '&a0' is not allowed", error.Message);
    }

    [Fact]
    public void Nesting_100000_deep_is_refused_at_level_65_instead_of_overflowing_the_stack()
    {
        var error = Scenarios.ErrorsIn("lab: x\nsteps: " + new string('[', 100_000) + new string(']', 100_000) + "\n")[0];
        error.At(2, 7 + ScenarioLoader.MaxDepth); // the root mapping is level 1, so the 64th [ is level 65
        Assert.Equal($"YAML nested more than {ScenarioLoader.MaxDepth} levels deep", error.Message);
    }

    [Fact]
    public void Nesting_of_a_real_lab_is_far_below_the_limit() =>
        Assert.NotNull(ScenarioLoader.LoadFile(Repo.Article("article.yaml")));
}
