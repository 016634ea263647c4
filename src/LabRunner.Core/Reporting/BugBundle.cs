using System.Collections.Immutable;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LabRunner.Execution;
using LabRunner.Runtimes;

namespace LabRunner.Reporting;

/// <summary>
/// How a run was started, so that a bundle can start it again the same way, and the SHA-256 of every other file of
/// the bundle (<see cref="Files"/>: path inside the bundle → lowercase hex), which `replay` checks. <see cref="Host"/>
/// and <see cref="Uplink"/> say how it was run; a replay uses them only when its own command line says so.
/// </summary>
public sealed record BundleManifest(string ScenarioFile, string Runtime, bool Host, string? Uplink)
{
    public const string FileName = "bundle.json";

    /// <summary>The format this labrunner writes; 1 (without <see cref="Files"/>) is no longer replayed.</summary>
    public const int CurrentFormat = 2;

    public ImmutableSortedDictionary<string, string>? Files { get; init; }

    /// <summary>
    /// Every capture point of the run's capture expectations, in run order: the pcap file under captures/ (also in
    /// <see cref="Files"/>, with its SHA-256), or why it is not in the bundle. Null in bundles written before pcaps were.
    /// </summary>
    public IReadOnlyList<BundleCapture>? Captures { get; init; }

    public int Format { get; init; } = CurrentFormat;

    /// <summary>The labrunner arguments that replay the run, the scenario given relative to the bundle.</summary>
    public IReadOnlyList<string> RunArguments() =>
        ["run", Path.Combine("scenario", ScenarioFile), "--runtime", Runtime, .. Host ? new[] { "--host" } : [], .. Uplink is { } u ? new[] { "--uplink", u } : []];
}

/// <summary>
/// One capture point's packets in a bundle: <see cref="File"/> (a path inside the bundle, under captures/) or, when it is
/// null, <see cref="LeftOut"/> saying why not (larger than the bound, or past the bundle's bounds on files and bytes).
/// <see cref="Step"/> is the step's position (1-based), <see cref="Capture"/> the capture expectation's among the step's
/// captures and <see cref="Point"/> the link's among its points (both 1-based); <see cref="Source"/> is where the
/// capture is written (file:line:col).
/// </summary>
public sealed record BundleCapture(string? File, int Step, string StepTitle, int Capture, int Point, string Link, string In, string Source, long Bytes, string? LeftOut);

/// <summary>
/// A bug report someone else can replay: a .tar.gz with the scenario file as it was run, the manifest of how it was
/// run (<see cref="BundleManifest"/>), the transcript and JUnit report, every command with its exit code (checks
/// included), the versions of the kernel and tools, and a replay.sh. `labrunner replay BUNDLE` runs it again.
/// Written with System.Formats.Tar and GZipStream: no archive code of our own.
/// </summary>
public static class BugBundle
{
    /// <summary>The most bytes `replay` extracts from a bundle (a real one holds well under 2 MiB), counted while extracting.</summary>
    public const long MaxExtractedBytes = 32L << 20;

    /// <summary>The most entries `replay` reads from a bundle (a real one has 8 files, and a pcap per capture point).</summary>
    public const int MaxEntries = 64;

    /// <summary>The largest pcap a bundle carries of one capture point (a lab's ping capture is a few KiB); a larger one is left out with a note.</summary>
    public const long MaxCaptureBytes = 4L << 20;

    /// <summary>
    /// The most bytes of pcaps in one bundle; the pcaps beyond it (and beyond <see cref="MaxEntries"/> files) are left
    /// out with a note, so that every bundle written stays within what `replay` extracts.
    /// </summary>
    public const long MaxCapturesBytes = 16L << 20;

    /// <summary>
    /// Writes the bundle of <paramref name="run"/> to <paramref name="path"/>. The tool versions in environment.txt are
    /// asked by <paramref name="runner"/> (read-only checks, 10 s each at most).
    /// </summary>
    public static async Task WriteAsync(string path, RunRecord run, string scenarioPath, BundleManifest manifest, ICommandRunner runner, CancellationToken ct = default)
    {
        var files = new List<(string Name, byte[] Content, UnixFileMode Mode)>
        {
            (Path.Combine("scenario", manifest.ScenarioFile), await File.ReadAllBytesAsync(scenarioPath, ct), Regular),
            ("transcript.md", Encoding.UTF8.GetBytes(MarkdownTranscript.Create(run)), Regular),
            ("junit.xml", Encoding.UTF8.GetBytes(JUnitReport.Create(run, manifest.Runtime).ToString()), Regular),
            ("commands.txt", Encoding.UTF8.GetBytes(Commands(run)), Regular),
            ("environment.txt", Encoding.UTF8.GetBytes(await EnvironmentAsync(manifest, runner, ct)), Regular),
            ("replay.sh", Encoding.UTF8.GetBytes(ReplayScript(manifest)), Regular | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute),
            ("README.md", Encoding.UTF8.GetBytes(Readme(run, manifest)), Regular),
        };
        var captures = Captures(run, files.Sum(f => (long)f.Content.Length), files.Count, out var pcaps);
        files.AddRange(pcaps.Select(p => (p.Name, p.Content, Regular)));
        manifest = manifest with
        {
            Format = BundleManifest.CurrentFormat,
            Files = files.ToImmutableSortedDictionary(f => f.Name, f => Convert.ToHexStringLower(SHA256.HashData(f.Content)), StringComparer.Ordinal),
            Captures = captures,
        };
        files.Insert(0, (BundleManifest.FileName, JsonSerializer.SerializeToUtf8Bytes(manifest, new JsonSerializerOptions { WriteIndented = true }), Regular));
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

    /// <summary>
    /// Extracts a bundle into <paramref name="directory"/> and reads its manifest; the scenario is then under
    /// Root/scenario/. A bundle is someone else's file: anything but what labrunner writes is refused with an
    /// <see cref="InvalidDataException"/> saying what is wrong: more than <see cref="MaxExtractedBytes"/> bytes or
    /// <see cref="MaxEntries"/> entries (counted while extracting), anything but regular files and directories under one
    /// top directory, a manifest that does not parse, names an unknown runtime or a scenario outside the bundle, and a
    /// file whose SHA-256 is not the manifest's (or that is missing from the archive or from the manifest).
    /// </summary>
    public static async Task<(BundleManifest Manifest, string Root)> ExtractAsync(string bundle, string directory, CancellationToken ct = default)
    {
        try
        {
            return await ExtractCheckedAsync(bundle, directory, ct);
        }
        catch (Exception e) when (e is not (InvalidDataException or OperationCanceledException))
        {
            // A truncated gzip, a tar header that does not parse, a file that cannot be read: all say "not a bundle".
            throw new InvalidDataException($"{bundle} is not a readable labrunner bundle: {e.Message}", e);
        }
    }

    private static async Task<bool> IsGzipAsync(string path, CancellationToken ct)
    {
        await using var file = File.OpenRead(path);
        var magic = new byte[2];
        return await file.ReadAtLeastAsync(magic, 2, throwOnEndOfStream: false, ct) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    private static async Task<(BundleManifest Manifest, string Root)> ExtractCheckedAsync(string bundle, string directory, CancellationToken ct)
    {
        InvalidDataException Bad(string why) => new($"{bundle}: {why}");
        var destination = Path.GetFullPath(directory);
        string? top = null;
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = 0;
        // A bundle is a .tar.gz: anything else is said to be no bundle, not a decompressor's complaint.
        if (!await IsGzipAsync(bundle, ct)) throw Bad("this is not a bundle (a .tar.gz written by 'labrunner run --bundle FILE')");
        await using (var file = File.OpenRead(bundle))
        await using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        await using (var bounded = new BoundedReadStream(gzip, MaxExtractedBytes + (1L << 20), () => Bad($"it expands to more than {MaxExtractedBytes} bytes, the most a bundle may hold")))
        await using (var tar = new TarReader(bounded))
        {
            var written = 0L;
            while (await tar.GetNextEntryAsync(copyData: false, ct) is { } entry)
            {
                if (++entries > MaxEntries) throw Bad($"it holds more than {MaxEntries} entries, the most a bundle may hold");
                var parts = entry.Name.Split('/', StringSplitOptions.RemoveEmptyEntries);
                if (entry.Name.StartsWith('/') || parts.Length == 0 || parts.Any(p => p is "." or ".."))
                    throw Bad($"the entry '{entry.Name}' is not a plain path inside the bundle");
                if (entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
                    throw Bad($"the entry '{entry.Name}' is a symbolic link or hard link; a bundle holds only files");
                top ??= parts[0];
                if (parts[0] != top) throw Bad($"it holds more than one top directory ('{top}', '{parts[0]}'); a bundle has one top directory, labrunner-bundle-ID");
                if (entry.EntryType is TarEntryType.Directory) continue;
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || parts.Length < 2)
                    throw Bad($"the entry '{entry.Name}' is not a file inside the bundle's directory");
                var relative = string.Join('/', parts[1..]);
                if (!hashes.TryAdd(relative, "")) throw Bad($"the file {relative} is in the archive twice");
                var target = Path.GetFullPath(Path.Combine(destination, string.Join('/', parts)));
                if (!target.StartsWith(destination + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    throw Bad($"the entry '{entry.Name}' is not a plain path inside the bundle");
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                await using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write))
                {
                    if (entry.DataStream is { } data)
                    {
                        var buffer = new byte[81920];
                        int n;
                        while ((n = await data.ReadAsync(buffer, ct)) > 0)
                        {
                            written += n;
                            if (written > MaxExtractedBytes) throw Bad($"it expands to more than {MaxExtractedBytes} bytes, the most a bundle may hold");
                            sha.AppendData(buffer, 0, n);
                            await output.WriteAsync(buffer.AsMemory(0, n), ct);
                        }
                    }
                }
                hashes[relative] = Convert.ToHexStringLower(sha.GetHashAndReset());
            }
        }
        if (top is null) throw Bad("it is empty; a bundle holds a labrunner-bundle-ID directory");
        var root = Path.Combine(destination, top);
        if (!hashes.ContainsKey(BundleManifest.FileName)) throw Bad($"there is no {BundleManifest.FileName} in it: it is not a labrunner bundle");
        BundleManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<BundleManifest>(await File.ReadAllBytesAsync(Path.Combine(root, BundleManifest.FileName), ct));
        }
        catch (JsonException e)
        {
            throw Bad($"{BundleManifest.FileName} is not valid: {e.Message}");
        }
        if (manifest is null || manifest.ScenarioFile is null || manifest.Runtime is null)
            throw Bad($"{BundleManifest.FileName} does not say which scenario and runtime the run used");
        // The manifest names a file inside the bundle: nothing else may be run from it.
        if (manifest.ScenarioFile != Path.GetFileName(manifest.ScenarioFile) || manifest.ScenarioFile is "" or "." or "..")
            throw Bad($"the scenario file '{manifest.ScenarioFile}' is not a plain file name");
        if (!ContainerRuntimes.Names.Contains(manifest.Runtime))
            throw Bad($"{BundleManifest.FileName} names an unknown runtime '{manifest.Runtime}' (known: {string.Join(", ", ContainerRuntimes.Names)})");
        if (manifest.Uplink is { } uplink && Loading.Names.CheckInterface(uplink) is { } why)
            throw Bad($"{BundleManifest.FileName} names the uplink '{uplink}': {why}");
        if (manifest.Files is not { } files)
            throw Bad($"{BundleManifest.FileName} has no SHA-256 of its files (format {manifest.Format}; this labrunner writes and replays format {BundleManifest.CurrentFormat}): write the bundle again with this labrunner");
        foreach (var (name, hash) in files)
        {
            if (!hashes.TryGetValue(name, out var actual)) throw Bad($"{name} is in {BundleManifest.FileName} but not in the archive");
            if (!string.Equals(actual, hash, StringComparison.OrdinalIgnoreCase))
                throw Bad($"{name} does not match its SHA-256 in {BundleManifest.FileName}: the bundle was changed after it was written");
        }
        foreach (var name in hashes.Keys.Where(n => n != BundleManifest.FileName && !files.ContainsKey(n)))
            throw Bad($"{name} is in the archive but not in {BundleManifest.FileName}");
        if (!files.ContainsKey($"scenario/{manifest.ScenarioFile}"))
            throw Bad($"the scenario scenario/{manifest.ScenarioFile} is not in the bundle");
        return (manifest, root);
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes of <paramref name="inner"/>, then throws: a gzip bomb stops at the bound.</summary>
    private sealed class BoundedReadStream(Stream inner, long limit, Func<Exception> tooLong) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int n)
        {
            _read += n;
            return _read > limit ? throw tooLong() : n;
        }

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// The run's kept capture packets (<see cref="Engine.LabOptions.KeepCaptures"/>) as bundle files,
    /// captures/step-NN-capture-K/P-LINK[-in-PLACE].pcap, and a manifest entry for every capture point: its file, or
    /// why it is left out (larger than <see cref="MaxCaptureBytes"/>, not readable, or past the room left in the bundle:
    /// <see cref="MaxCapturesBytes"/> of pcaps, and what <see cref="MaxExtractedBytes"/> and <see cref="MaxEntries"/>
    /// leave beside the other files, with 1 MiB kept for the manifest).
    /// </summary>
    private static List<BundleCapture> Captures(RunRecord run, long otherBytes, int otherFiles, out List<(string Name, byte[] Content)> pcaps)
    {
        var entries = new List<BundleCapture>();
        pcaps = [];
        var room = Math.Min(MaxCapturesBytes, MaxExtractedBytes - otherBytes - (1L << 20));
        var filesLeft = MaxEntries - otherFiles - 1; // the manifest
        var used = 0L;
        foreach (var step in run.Steps)
        {
            var k = 0;
            foreach (var check in step.Checks.Where(c => c.Expectation is Model.CaptureExpectation))
            {
                k++;
                foreach (var c in check.Result.Captures)
                {
                    var place = c.Point.In.Kind == Model.PlaceKind.Host ? "" : $"-in-{Safe(c.Point.In.Name)}";
                    var name = $"captures/step-{step.Number:00}-capture-{k}/{c.Index}-{Safe(c.Point.Link)}{place}.pcap";
                    var leftOut = c.LeftOut
                                  ?? (filesLeft <= 0 ? $"left out: a bundle holds at most {MaxEntries} files"
                                      : used + c.Bytes > room ? $"left out: the bundle's pcaps may hold {room} bytes in all, and {used} were taken"
                                      : null);
                    if (leftOut is null && c.Pcap is { } bytes)
                    {
                        pcaps.Add((name, bytes));
                        used += bytes.Length;
                        filesLeft--;
                    }
                    entries.Add(new BundleCapture(leftOut is null ? name : null, step.Number, step.Step.Title, k, c.Index, c.Point.Link, c.Point.In.ToString(),
                        check.Expectation.Span.ToString(), c.Bytes, leftOut));
                }
            }
        }
        return entries;
    }

    /// <summary>A name as a part of a path in the bundle: letters, digits, '.', '_' and '-' (names are checked so already; this is a belt).</summary>
    private static string Safe(string name)
    {
        var safe = new string([.. name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '-' ? ch : '_')]);
        return safe.StartsWith('.') ? "_" + safe[1..] : safe;
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
    private static async Task<string> EnvironmentAsync(BundleManifest manifest, ICommandRunner runner, CancellationToken ct)
    {
        var text = new StringBuilder();
        // The informational version carries the commit (1.0.0+SHA, from the SDK's git information): which code ran.
        text.Append("labrunner ").Append(Version).Append('\n');
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
                var result = await runner.RunAsync(argv, CommandPurpose.Check, limit.Token);
                var output = result.Output.Trim();
                // busybox with no applet prints its whole help: its first line (the version) is what matters.
                text.Append(argv is ["busybox"] ? output.Split('\n')[0] : output).Append('\n');
            }
            catch (OperationCanceledException e)
            {
                text.Append("(not available: ").Append(e.Message).Append(")\n");
            }
        }
        return text.ToString();
    }

    /// <summary>LabRunner's version with the commit it was built from, e.g. 1.0.0+956c2db08d26….</summary>
    public static string Version { get; } =
        typeof(BugBundle).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion
        ?? typeof(BugBundle).Assembly.GetName().Version?.ToString() ?? "?";

    private static string ReplayScript(BundleManifest manifest) =>
        "#!/bin/sh\n" +
        "# Replays the run in this bundle, as root, with the labrunner of a LabRunner checkout:\n" +
        "#   LABRUNNER=/path/to/LabRunner/run-lab.sh ./replay.sh      (default: labrunner on PATH)\n" +
        "# or, from a checkout: ./run-lab.sh replay THIS-BUNDLE.tar.gz (which checks every file's SHA-256 first).\n" +
        "# It runs the lab's commands as root: read `labrunner replay --plan THIS-BUNDLE.tar.gz` first.\n" +
        "set -e\ncd \"$(dirname \"$0\")\"\n" +
        "if [ -z \"${LABRUNNER:-}\" ] && ! command -v labrunner >/dev/null 2>&1; then\n" +
        "  echo 'replay.sh: labrunner is not on PATH; run it with LABRUNNER=/path/to/LabRunner/run-lab.sh ./replay.sh' >&2\n" +
        "  exit 3\nfi\n" +
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
        "| `captures/` | each capture point's packets as tcpdump wrote them (`tcpdump -r FILE`), by step and capture; `bundle.json` lists them, and those left out (a pcap above 4 MiB, or past the bundle's room) with why |\n" +
        "| `replay.sh`, `bundle.json` | how to run it again: `./run-lab.sh replay BUNDLE.tar.gz` in a LabRunner checkout; `bundle.json` holds the SHA-256 of every other file, which `replay` checks |\n\n" +
        "Replaying a bundle runs its lab's commands as root: read `labrunner replay --plan BUNDLE.tar.gz` (and the scenario) first.\n";
}
