using LabRunner.Journal;

namespace LabRunner.Tests.Integration;

/// <summary>
/// Teardown (and so `clean`) checks more than its records: anything still carrying the lab's id is reported as left
/// behind (exit 4), and the journal is kept for another try.
/// </summary>
public sealed class TeardownTraceSpecs
{
    [Fact]
    public async Task Clean_reports_a_namespace_with_the_lab_id_that_no_record_names_and_keeps_the_journal()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
        var root = Directory.CreateTempSubdirectory("lr-trace-").FullName;
        try
        {
            Assert.Equal(0, await LabCli.ShAsync(["ip", "netns", "add", $"lr-{id}-stray"], ct));
            // A dead run (PID 0 never runs a lab) whose journal does not mention that namespace.
            using (LabJournal.Create(root, new JournalHeader(id, 0, 0, "stray.yaml", true, DateTimeOffset.UtcNow)))
            {
            }

            var clean = await LabCli.RunAsync(["clean", "--state-dir", root], ct: ct);

            Assert.True(clean.ExitCode == 4, clean.ToString());
            Assert.Contains($"left behind: /var/run/netns/lr-{id}-stray still exists", clean.Stdout);
            Assert.True(File.Exists(Path.Combine(root, id, LabJournal.FileName)));
        }
        finally
        {
            await LabCli.ShAsync(["ip", "netns", "delete", $"lr-{id}-stray"], CancellationToken.None);
            Directory.Delete(root, recursive: true);
        }
    }
}
