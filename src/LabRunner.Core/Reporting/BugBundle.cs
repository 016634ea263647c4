using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using CliWrap;
using CliWrap.Buffered;

namespace LabRunner.Reporting;

/// <summary>How a run was started, so that a bundle can start it again the same way.</summary>
public sealed record BundleManifest(string ScenarioFile, string Runtime, bool Host, string? Uplink)
{
    public const string FileName = "bundle.json";

    public int Format { get; init; } = 1;

    /// <summary>The labrunner arguments that replay the run, the scenario given relative to the bundle.</summary>
    public IReadOnlyList<string> RunArguments() =>
        ["run", Path.Combine("scenario", ScenarioFile), "--runtime", Runtime, .. Host ? new[] { "--host" } : [], .. Uplink is { } u ? new[] { "--uplink", u } : []];
}

/// <summary>
/// A bug report someone else can replay: a .tar.gz with the scenario file as it was run, the manifest of how it was
/// run (<see cref="BundleManifest"/>), the transcript and JUnit report, every command with its exit code (checks
/// included), the versions of the kernel and tools, and a replay.sh. `labrunner replay BUNDLE` runs it again.
/// Written with System.Formats.Tar and GZipStream: no archive code of our own.
/// </summary>
public static class BugBundle
{
    public static async Task WriteAsync(string path, RunRecord run, string scenarioPath, BundleManifest manifest, CancellationToken ct = default)
    {
        var files = new List<(string Name, byte[] Content, UnixFileMode Mode)>
        {
            (BundleManifest.FileName, JsonSerializer.SerializeToUtf8Bytes(manifest, new JsonSerializerOptions { WriteIndented = true }), Regular),
            (Path.Combine("scenario", manifest.ScenarioFile), await File.ReadAllBytesAsync(scenarioPath, ct), Regular),
            ("transcript.md", Encoding.UTF8.GetBytes(MarkdownTranscript.Create(run)), Regular),
            ("junit.xml", Encoding.UTF8.GetBytes(JUnitReport.Create(run).ToString()), Regular),
            ("commands.txt", Encoding.UTF8.GetBytes(Commands(run)), Regular),
            ("environment.txt", Encoding.UTF8.GetBytes(await EnvironmentAsync(manifest, ct)), Regular),
            ("replay.sh", Encoding.UTF8.GetBytes(ReplayScript(manifest)), Regular | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute),
            ("README.md", Encoding.UTF8.GetBytes(Readme(run, manifest)), Regular),
        };
        var temporary = path + ".partial";
        await using (var file = File.Create(temporary))
        await using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: false))
        {
            var root = $"labrunner-bundle-{run.LabId}";
            foreach (var (name, content, mode) in files)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, $"{root}/{name}") { Mode = mode, ModificationTime = DateTimeOffset.UtcNow, DataStream = new MemoryStream(content) };
                await tar.WriteEntryAsync(entry, ct);
            }
        }
        File.Move(temporary, path, overwrite: true); // a reader never sees half a bundle
    }

    /// <summary>Extracts a bundle into <paramref name="directory"/> and reads its manifest; the scenario is then under directory/scenario/.</summary>
    public static async Task<(BundleManifest Manifest, string Root)> ExtractAsync(string bundle, string directory, CancellationToken ct = default)
    {
        await using (var file = File.OpenRead(bundle))
        await using (var gzip = new GZipStream(file, CompressionMode.Decompress))
            await TarFile.ExtractToDirectoryAsync(gzip, directory, overwriteFiles: false, ct);
        var root = Directory.GetDirectories(directory).SingleOrDefault()
                   ?? throw new InvalidDataException($"{bundle} is not a labrunner bundle: it holds no labrunner-bundle-ID directory");
        var manifestPath = Path.Combine(root, BundleManifest.FileName);
        if (!File.Exists(manifestPath)) throw new InvalidDataException($"{bundle} is not a labrunner bundle: no {BundleManifest.FileName} in it");
        var manifest = JsonSerializer.Deserialize<BundleManifest>(await File.ReadAllTextAsync(manifestPath, ct))
                       ?? throw new InvalidDataException($"{bundle}: {BundleManifest.FileName} is empty");
        // The manifest names a file inside the bundle: nothing else may be run from it.
        if (manifest.ScenarioFile != Path.GetFileName(manifest.ScenarioFile) || manifest.ScenarioFile is "" or "." or "..")
            throw new InvalidDataException($"{bundle}: the scenario file '{manifest.ScenarioFile}' is not a plain file name");
        return (manifest, root);
    }

    private const UnixFileMode Regular = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private static string Commands(RunRecord run)
    {
        var text = new StringBuilder("# every command of the run, in order: purpose, exit code, argv (checks included)\n");
        void Add(string section, IEnumerable<RecordedCommand> commands)
        {
            text.Append("\n== ").Append(section).Append('\n');
            foreach (var c in commands) text.Append(c.Purpose.ToString().ToLowerInvariant().PadRight(9)).Append(c.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(4)).Append("  ").Append(c.Display).Append('\n');
        }
        Add("sandbox", run.SetupCommands);
        foreach (var step in run.Steps) Add($"step {step.Number}: {step.Step.Title}", step.Commands);
        Add("teardown", run.TeardownCommands);
        return text.ToString();
    }

    /// <summary>What differs between two machines and can change a lab's outcome: kernel, tools, runtime, a few sysctls.</summary>
    private static async Task<string> EnvironmentAsync(BundleManifest manifest, CancellationToken ct)
    {
        var text = new StringBuilder();
        text.Append("labrunner ").Append(typeof(BugBundle).Assembly.GetName().Version).Append('\n');
        text.Append("date ").Append(DateTimeOffset.UtcNow.ToString("u", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        string[][] probes =
        [
            ["uname", "-srvm"], ["cat", "/etc/os-release"], ["ip", "-V"], ["iptables", "-V"], ["tcpdump", "--version"], ["busybox"],
            ["sysctl", "net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables", "net.bridge.bridge-nf-call-arptables"],
            .. manifest.Runtime switch
            {
                "containerd" => new[] { new[] { "ctr", "version" } },
                "docker" => [["docker", "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"]],
                _ => [],
            },
        ];
        foreach (var argv in probes)
        {
            text.Append("\n$ ").Append(string.Join(' ', argv)).Append('\n');
            try
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
                limit.CancelAfter(TimeSpan.FromSeconds(10));
                var result = await Cli.Wrap("setsid").WithArguments(Execution.Sessions.Detached(argv).Skip(1)).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(limit.Token);
                var output = (result.StandardOutput + result.StandardError).Trim();
                // busybox with no applet prints its whole help: its first line (the version) is what matters.
                text.Append(argv is ["busybox"] ? output.Split('\n')[0] : output).Append('\n');
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or OperationCanceledException)
            {
                text.Append("(not available: ").Append(e.Message).Append(")\n");
            }
        }
        return text.ToString();
    }

    private static string ReplayScript(BundleManifest manifest) =>
        "#!/bin/sh\n" +
        "# Replays the run in this bundle, as root, with the labrunner of a LabRunner checkout:\n" +
        "#   LABRUNNER=/path/to/LabRunner/run-lab.sh ./replay.sh      (default: labrunner on PATH)\n" +
        "# or, from a checkout: ./run-lab.sh replay THIS-BUNDLE.tar.gz\n" +
        "set -e\ncd \"$(dirname \"$0\")\"\n" +
        $"exec ${{LABRUNNER:-labrunner}} {string.Join(' ', manifest.RunArguments().Select(a => "'" + a.Replace("'", "'\\''") + "'"))} \"$@\"\n";

    private static string Readme(RunRecord run, BundleManifest manifest) =>
        $"# LabRunner bug bundle: {run.Scenario.Name} (lab {run.LabId})\n\n" +
        $"Run with `labrunner {string.Join(' ', manifest.RunArguments())}`; exit code {run.Result?.ExitCode().ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}.\n\n" +
        "| file | what |\n|---|---|\n" +
        "| `scenario/` | the lab file as it was run |\n" +
        "| `transcript.md` | the run: each step's commands and checks, failures with expected, observed and why |\n" +
        "| `junit.xml` | the same as JUnit XML |\n" +
        "| `commands.txt` | every command with its exit code, checks included |\n" +
        "| `environment.txt` | kernel, tools, runtime versions, the sysctls that matter |\n" +
        "| `replay.sh`, `bundle.json` | how to run it again: `./run-lab.sh replay BUNDLE.tar.gz` in a LabRunner checkout |\n";
}
