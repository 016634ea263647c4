using LabRunner.Journal;

namespace LabRunner.Tests.Integration;

/// <summary>
/// Teardown (and so `clean`) does more than replay its records: anything still carrying the lab's id is removed and
/// named, and what cannot be removed is reported as left behind (exit 4), with the journal kept for another try.
/// </summary>
public sealed class TeardownTraceSpecs
{
    [Fact]
    public async Task Clean_removes_a_namespace_with_the_lab_id_that_no_record_names_and_says_so()
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

            Assert.True(clean.ExitCode == 0, clean.ToString());
            Assert.Contains($"removed /var/run/netns/lr-{id}-stray: it carried the lab's id, and no record named it", clean.Stdout);
            Assert.False(File.Exists($"/var/run/netns/lr-{id}-stray"));
            Assert.False(Directory.Exists(Path.Combine(root, id)));
        }
        finally
        {
            if (File.Exists($"/var/run/netns/lr-{id}-stray")) await LabCli.ShAsync(["ip", "netns", "delete", $"lr-{id}-stray"], CancellationToken.None);
            Directory.Delete(root, recursive: true);
        }
    }
}
