using System.Globalization;
using LabRunner.Journal;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Testing;

namespace LabRunner.Reliability;

/// <summary>
/// The ways a session ends that issue 9 named, each measured as k of n clean (docs/RELIABILITY.md):
/// <list type="bullet">
/// <item>journal-garble, journal-truncate, journal-unknown-kind: a run SIGKILLed after a random action k, its journal
/// then damaged; `clean` must remove everything of the lab and exit 0.</item>
/// <item>daemon-down-containerd, daemon-down-docker: a run on the test's own daemon SIGKILLed after a random action past
/// its first container, the daemon then SIGKILLed; `clean` must exit 4 saying it cannot tell and keep the journal;
/// once the daemon is back, `clean` leaves nothing.</item>
/// <item>full-state-dir, disk-fills, stdout-full: exit 3 with the cause, nothing left, no journal.</item>
/// </list>
/// Every case compares host snapshots taken before and after.
/// </summary>
public static class HardeningFaults
{
    public static readonly IReadOnlyList<string> Kinds =
    [
        "journal-garble", "journal-truncate", "journal-unknown-kind", "daemon-down-containerd", "daemon-down-docker",
        "full-state-dir", "disk-fills", "stdout-full",
    ];

    /// <summary>Case <paramref name="i"/> of a kind; journal damages rotate over the three runtimes.</summary>
    public static async Task<FaultCase> RunAsync(string kind, int i, string scenarioPath, Random random, CancellationToken ct = default)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var state = Directory.CreateTempSubdirectory("lr-hardening-").FullName;
        var snapshot = new SnapshotOptions { StateRoots = [state] };
        var problems = new List<string>();
        var labs = new HashSet<string>();
        string runtime = "process";
        var k = 0;
        try
        {
            var before = HostSnapshot.Take(snapshot);
            string[] run = ["run", scenarioPath, "--state-dir", state];
            switch (kind)
            {
                case "journal-garble" or "journal-truncate" or "journal-unknown-kind":
                {
                    runtime = Runtimes.ContainerRuntimes.Names[i % 3];
                    k = random.Next(1, FaultInjection.ActionCount(scenarioPath) + 1);
                    var killed = await LabProcess.RunAsync([.. run, "--runtime", runtime], Fault(k), ct: ct);
                    Expect(problems, labs, killed, 137);
                    foreach (var dir in LabJournal.Directories(state)) Damage(Path.Combine(dir, LabJournal.FileName), kind);
                    var clean = await LabProcess.RunAsync(["clean", "--state-dir", state], ct: ct);
                    Expect(problems, labs, clean, 0);
                    break;
                }
                case "daemon-down-containerd" or "daemon-down-docker":
                {
                    runtime = kind["daemon-down-".Length..];
                    k = random.Next(FirstContainerAction(scenarioPath), FaultInjection.ActionCount(scenarioPath) + 1);
                    await using var daemon = new PrivateDaemon();
                    await daemon.StartContainerdAsync(ct);
                    if (runtime == "docker") await daemon.StartDockerdAsync(ct);
                    var killed = await LabProcess.RunAsync([.. run, "--runtime", runtime], new Dictionary<string, string?>(daemon.Environment).Concat(Fault(k)).ToDictionary(), ct: ct);
                    Expect(problems, labs, killed, 137);
                    if (runtime == "docker") daemon.KillDockerd(); else daemon.KillContainerd();
                    var down = await LabProcess.RunAsync(["clean", "--state-dir", state], daemon.Environment, ct: ct);
                    Expect(problems, labs, down, 4);
                    if (!down.Stdout.Contains("cannot tell whether", StringComparison.Ordinal)) problems.Add("clean with the daemon down did not say it cannot tell");
                    if (down.Stdout.Contains("nothing of lab", StringComparison.Ordinal)) problems.Add("clean said 'nothing left' with the daemon down");
                    if (!LabJournal.Directories(state).Any()) problems.Add("clean with the daemon down removed the journal");
                    if (runtime == "docker") await daemon.StartDockerdAsync(ct); else await daemon.StartContainerdAsync(ct);
                    var up = await LabProcess.RunAsync(["clean", "--state-dir", state], daemon.Environment, ct: ct);
                    Expect(problems, labs, up, 0);
                    if (daemon.Containers(runtime) is { Length: > 0 } left) problems.Add($"the daemon still holds {string.Join(", ", left)}");
                    break;
                }
                case "full-state-dir" or "disk-fills":
                {
                    var tmpfs = Directory.CreateTempSubdirectory("lr-tmpfs-").FullName;
                    try
                    {
                        var (pages, free) = kind == "full-state-dir" ? (2, 0) : (3, 1);
                        await LabProcess.ShAsync(["mount", "-t", "tmpfs", "-o", $"size={pages * 4096}", "tmpfs", tmpfs], ct);
                        await File.WriteAllBytesAsync(Path.Combine(tmpfs, "filler"), new byte[(pages - free) * 4096], ct);
                        var full = await LabProcess.RunAsync(["run", scenarioPath, "--state-dir", tmpfs], ct: ct);
                        Expect(problems, labs, full, 3);
                        if (!full.Stderr.Contains("No space left on device", StringComparison.Ordinal)) problems.Add("exit 3 did not name the cause");
                        if (Directory.GetFileSystemEntries(tmpfs).Length != 1) problems.Add($"junk in the state dir: {string.Join(", ", Directory.GetFileSystemEntries(tmpfs))}");
                    }
                    finally
                    {
                        await LabProcess.ShAsync(["umount", tmpfs], CancellationToken.None);
                        Directory.Delete(tmpfs, recursive: true);
                    }
                    break;
                }
                case "stdout-full":
                {
                    var full = await LabProcess.RunAsync(run, prefix: ["sh", "-c", "exec \"$@\" >/dev/full", "sh"], ct: ct);
                    Expect(problems, labs, full, 3);
                    break;
                }
                default:
                    throw new ArgumentException($"unknown fault '{kind}'; known: {string.Join(", ", Kinds)}");
            }
            // Only this case's labs (and what belongs to no lab) count: others may run or die beside us on a shared machine.
            problems.AddRange(before.Diff(HostSnapshot.Take(snapshot), labs).Select(d => "left: " + d));
            if (LabJournal.Directories(state).Any()) problems.Add("a journal is left in the state directory");
        }
        catch (OperationCanceledException)
        {
            problems.Add("interrupted");
        }
        finally
        {
            // Whatever happened above: clean, and keep the state directory if a journal is still owed.
            await LabProcess.RunAsync(["clean", "--state-dir", state], ct: CancellationToken.None);
            if (LabJournal.Directories(state).Any()) Console.Error.WriteLine($"hardening: journals left in {state}: run `labrunner clean --state-dir {state}`");
            else Directory.Delete(state, recursive: true);
        }
        return new FaultCase(runtime, kind, k, problems.Count == 0, problems.Count == 0 ? "snapshots equal" : string.Join("; ", problems), watch.Elapsed);
    }

    private static Dictionary<string, string?> Fault(int k) => new()
    {
        ["LABRUNNER_FAULT_AFTER_ACTION"] = k.ToString(CultureInfo.InvariantCulture),
        ["LABRUNNER_FAULT_SIGNAL"] = "KILL",
    };

    private static int FirstContainerAction(string scenarioPath) =>
        ScenarioLoader.LoadFile(scenarioPath).AllActions.Select((a, i) => (a, i)).First(x => x.a.UsesContainerRuntime).i + 1;

    /// <summary>The lab ids a run names on either stream: "(id 1a2b3c,", "lab 1a2b3c", a journal path ".../1a2b3c".</summary>
    private static IEnumerable<string> LabIdsIn(LabRun run) =>
        System.Text.RegularExpressions.Regex.Matches(run.Stdout + run.Stderr, @"(?:\(id |lab |/|lr-)([0-9a-f]{6})\b").Select(m => m.Groups[1].Value);

    private static void Expect(List<string> problems, HashSet<string> labs, LabRun run, int exitCode)
    {
        labs.UnionWith(LabIdsIn(run));
        if (run.ExitCode != exitCode) problems.Add($"exit {run.ExitCode}, expected {exitCode}: {string.Join(" | ", (run.Stdout + run.Stderr).Trim().Split('\n').TakeLast(4))}");
    }

    /// <summary>What issue 9 did to journals: a garbled header, a journal cut in half, a record without a kind.</summary>
    public static void Damage(string journal, string kind)
    {
        var lines = File.ReadAllLines(journal);
        switch (kind)
        {
            case "journal-garble":
                File.WriteAllLines(journal, ["{\"Header\":{\"LabId\":#!garbled", .. lines.Skip(1)]);
                break;
            case "journal-truncate":
                var text = File.ReadAllText(journal);
                File.WriteAllText(journal, text[..(text.Length / 2)]);
                break;
            case "journal-unknown-kind":
                File.WriteAllLines(journal, [lines[0], "{\"Seq\":99,\"Undo\":{\"Summary\":\"a record without kind\"}}", .. lines.Skip(1)]);
                break;
        }
    }
}
