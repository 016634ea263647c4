using LabRunner.Journal;
using LabRunner.Reliability;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The journal is not the only witness. A run killed half-way, whose journal is then garbled, cut in half or given
/// records `clean` cannot read: `clean` still removes everything carrying the lab's id (namespaces, /var/run/netns
/// links, containers, processes), names each bad line, and leaves the machine as before.
/// </summary>
public sealed class DamagedJournalSpecs
{
    // Action 20 of article.yaml is in section 2: containers, veths, a /var/run/netns symlink exist by then.
    private const int HalfWay = 20;

    // Action 32 is past the article's `ln -s /proc/PID/ns/net /var/run/netns/PID`: cut in half, the journal loses
    // that link's record while keeping its container's, so the link is found by the container's PID before the replay.
    public static TheoryData<string, string, int> Damages =>
    [
        ("process", "garble", HalfWay),
        ("containerd", "garble", HalfWay),
        ("process", "truncate", HalfWay),
        ("process", "truncate", 32),
        ("docker", "truncate", 32),
        ("containerd", "unknown-kind", HalfWay),
        ("process", "unknown-runtime", HalfWay),
    ];

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task Clean_removes_everything_of_a_killed_run_whose_journal_is_damaged(string runtime, string damage, int afterAction)
    {
        Root.Require(runtime);
        var ct = TestContext.Current.CancellationToken;
        var state = Directory.CreateTempSubdirectory("lr-damaged-").FullName;
        try
        {
            var before = HostSnapshot.Take();
            var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/article.yaml"), "--runtime", runtime, "--state-dir", state], new Dictionary<string, string?>
            {
                ["LABRUNNER_FAULT_AFTER_ACTION"] = afterAction.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["LABRUNNER_FAULT_SIGNAL"] = "KILL",
            }, ct: ct);
            Assert.True(run.ExitCode == 137, run.ToString());
            var journal = Path.Combine(Assert.Single(LabJournal.Directories(state)), LabJournal.FileName);
            if (damage == "unknown-runtime")
                File.AppendAllText(journal, "{\"Seq\":99,\"Undo\":{\"kind\":\"container\",\"Summary\":\"remove container x\",\"Runtime\":\"podman\",\"Id\":\"x\"}}\n");
            else HardeningFaults.Damage(journal, $"journal-{damage}");
            Assert.NotEmpty(before.Diff(HostSnapshot.Take())); // the crash really left things

            var clean = await LabCli.RunAsync(["clean", "--state-dir", state], ct: ct);

            Assert.True(clean.ExitCode == 0, clean.ToString());
            Assert.Contains("nothing of lab", clean.Stdout);
            Assert.Contains(damage == "unknown-runtime" ? "unknown runtime 'podman'" : "line ", clean.Stdout);
            Assert.Empty(before.Diff(HostSnapshot.Take()));
            Assert.Empty(Directory.GetFileSystemEntries(state));
        }
        finally
        {
            await LabCli.RunAsync(["clean", "--state-dir", state], ct: CancellationToken.None); // whatever the assertions said
            Directory.Delete(state, recursive: true);
        }
    }
}
