using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using LabRunner.Engine;
using LabRunner.Reporting;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>The bug-report bundle: what it holds, how it is replayed, and what a tampered one cannot do.</summary>
public sealed class BugBundleSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RunRecord Record()
    {
        var scenario = Scenarios.Load("lab: b\nsteps:\n  - title: t\n    actions: [ { netns-add: n1 } ]\n");
        var recorder = new RunRecorder();
        recorder.LabStarting(scenario, new LabSession("bb0001", true, scenario.Uplink));
        recorder.StepStarting(scenario.Steps[0], 0, 1);
        recorder.StepFinished(scenario.Steps[0], true);
        recorder.TeardownStarting(0);
        recorder.LabFinished(new LabResult("bb0001", LabOutcome.Passed, null, [], new TeardownReport(0, [], []), TimeSpan.FromSeconds(1)));
        return recorder.Record;
    }

    [Fact]
    public void The_manifest_replays_with_the_runtime_and_host_options_of_the_run()
    {
        Assert.Equal(["run", "scenario/lab.yaml", "--runtime", "docker", "--host", "--uplink", "eth0"],
            new BundleManifest("lab.yaml", "docker", Host: true, Uplink: "eth0").RunArguments());
        Assert.Equal(["run", "scenario/lab.yaml", "--runtime", "process"], new BundleManifest("lab.yaml", "process", false, null).RunArguments());
    }

    [Fact]
    public async Task A_bundle_holds_the_scenario_the_reports_the_versions_and_a_replay_script_and_extracts_back()
    {
        using var dir = new TempDirectory();
        var scenario = Path.Combine(dir.Path, "lab.yaml");
        await File.WriteAllTextAsync(scenario, "lab: b\n", Ct);
        var bundle = Path.Combine(dir.Path, "b.tar.gz");

        await BugBundle.WriteAsync(bundle, Record(), scenario, new BundleManifest("lab.yaml", "process", false, null), Ct);

        var names = new List<string>();
        await using (var gzip = new GZipStream(File.OpenRead(bundle), CompressionMode.Decompress))
        await using (var tar = new TarReader(gzip))
            while (await tar.GetNextEntryAsync(cancellationToken: Ct) is { } entry) names.Add(entry.Name);
        Assert.Equal(["bundle.json", "scenario/lab.yaml", "transcript.md", "junit.xml", "commands.txt", "environment.txt", "replay.sh", "README.md"],
            names.Select(n => n["labrunner-bundle-bb0001/".Length..]));
        Assert.False(File.Exists(bundle + ".partial"));

        using var into = new TempDirectory();
        var (manifest, root) = await BugBundle.ExtractAsync(bundle, into.Path, Ct);
        Assert.Equal("lab.yaml", manifest.ScenarioFile);
        Assert.Equal("lab: b\n", await File.ReadAllTextAsync(Path.Combine(root, "scenario", "lab.yaml"), Ct));
        Assert.Contains("exec ${LABRUNNER:-labrunner} 'run' 'scenario/lab.yaml' '--runtime' 'process'", await File.ReadAllTextAsync(Path.Combine(root, "replay.sh"), Ct));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("..")]
    [InlineData("/etc/passwd")]
    public async Task A_manifest_naming_a_file_outside_the_bundle_is_refused(string scenarioFile)
    {
        using var dir = new TempDirectory();
        var bundle = Path.Combine(dir.Path, "evil.tar.gz");
        await using (var gzip = new GZipStream(File.Create(bundle), CompressionLevel.Fastest))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            var json = $"{{\"ScenarioFile\":\"{scenarioFile}\",\"Runtime\":\"process\",\"Host\":false}}";
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "labrunner-bundle-x/bundle.json") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(json)) }, Ct);
        }
        using var into = new TempDirectory();

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => BugBundle.ExtractAsync(bundle, into.Path, Ct));

        Assert.Contains("is not a plain file name", error.Message);
    }
}
