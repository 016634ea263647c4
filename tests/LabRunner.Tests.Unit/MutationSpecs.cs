using System.Globalization;
using LabRunner.Reliability;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The CI slice of the mutation fuzzing (the long run: scripts/reliability.sh mutate). Mutants of the article
/// scenarios, made with Bogus from a seed, are each either valid or rejected with positions; never another
/// exception. LABRUNNER_MUTATION_SEED and LABRUNNER_MUTATIONS change the seed and the count.
/// </summary>
public sealed class MutationSpecs
{
    private const int DefaultSeed = 20261128;
    private const int DefaultCount = 1500;

    private static int Env(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    [Fact]
    public void Every_mutant_of_the_article_and_curriculum_scenarios_is_valid_or_rejected_with_a_position_never_a_crash()
    {
        var seed = Env("LABRUNNER_MUTATION_SEED", DefaultSeed);
        var count = Env("LABRUNNER_MUTATIONS", DefaultCount);

        var report = Mutation.LoadAll(seed, count);

        TestContext.Current.SendDiagnosticMessage($"mutation: seed {seed}: {report.Tried} mutants, {report.Valid} valid, {report.Rejected} rejected, {report.Crashes.Count} crashes");
        Assert.True(report.Crashes.Count == 0, $"seed {seed}: {report.Crashes.Count} crashes; the first:\n{report.Crashes.FirstOrDefault()}");
        Assert.Equal(count, report.Valid + report.Rejected);
        // The mutator must really exercise both sides, or the test proves little.
        Assert.True(report.Valid > count / 20, $"only {report.Valid} valid mutants");
        Assert.True(report.Rejected > count / 2, $"only {report.Rejected} rejected mutants");
        Assert.True(report.Slowest < TimeSpan.FromSeconds(2), $"slowest mutant took {report.Slowest.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void The_same_seed_gives_the_same_mutants()
    {
        var sources = ScenarioMutator.ArticleSources();
        var a = new ScenarioMutator(7, sources).Mutants(50).Select(m => m.Text).ToList();
        var b = new ScenarioMutator(7, sources).Mutants(50).Select(m => m.Text).ToList();
        var c = new ScenarioMutator(8, sources).Mutants(50).Select(m => m.Text).ToList();

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void A_mutant_whose_commands_run_other_programs_is_never_run_for_real()
    {
        var text = File.ReadAllText(Infrastructure.Repo.Article("02-container-host.yaml")).Replace("argv: [test, -d,", "argv: [rm, -rf,", StringComparison.Ordinal);
        Assert.False(Mutation.Runnable(new Mutant(1, "02", text, [])));
        Assert.True(Mutation.Runnable(new Mutant(2, "02", File.ReadAllText(Infrastructure.Repo.Article("02-container-host.yaml")), [])));
    }
}
