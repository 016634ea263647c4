using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace LabRunner.Journal;

/// <summary>Who owns a journal: a run is dead (and `clean` may replay it) when this process is gone.</summary>
public sealed record JournalHeader(
    string LabId,
    int OwnerPid,
    long OwnerStartTime,
    string Scenario,
    bool Sandbox,
    DateTimeOffset Started)
{
    /// <summary>The lab's name (its <c>lab:</c>); null in journals written before it was recorded.</summary>
    public string? Lab { get; init; }

    /// <summary>The container runtime the run was started with; null in journals written before it was recorded.</summary>
    public string? Runtime { get; init; }
}

/// <summary>
/// A step the run started (a <c>Step</c> line of the journal, written at each step's start): what `labrunner ls` shows
/// as the run's current step. <see cref="Position"/> counts from 1; <see cref="Number"/> is the step's own, if it has one.
/// </summary>
public sealed record JournalStep(int Position, int Count, string? Number, string Title);

/// <summary>
/// The write-ahead undo log of one run: /run/labrunner/LABID/journal, one JSON line per record,
/// flushed to disk before the action it undoes is done. Teardown replays it in reverse.
/// A record is cancelled when its action failed and so made nothing.
/// </summary>
/// <remarks>
/// A journal directory appears and disappears whole: it is written as <c>.new-LABID-PID</c> and renamed into place
/// with its header on disk (rename(2) is atomic, and RENAME_NOREPLACE makes it the claim of the lab id), and it is
/// renamed to <c>.gone-LABID-PID</c> before it is removed. So a reader (`clean`, a host snapshot) never sees a lab's
/// directory without its header, whatever it races with; names starting with '.' are never journals.
/// </remarks>
public sealed partial class LabJournal : IDisposable
{
    public const string DefaultRoot = "/run/labrunner";
    public const string FileName = "journal";

    private static readonly JsonSerializerOptions Json = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly List<(int Seq, UndoRecord Undo)> _records = [];
    private readonly HashSet<int> _cancelled = [];
    private readonly List<string> _problems = [];
    private readonly FileStream? _file;
    private readonly object _gate = new();
    private int _lastSeq;

    private LabJournal(JournalHeader header, string? directory, FileStream? file)
    {
        Header = header;
        Directory = directory;
        _file = file;
    }

    public JournalHeader Header { get; }

    /// <summary>The run's state directory; null for an in-memory journal (labrunner plan).</summary>
    public string? Directory { get; }

    /// <summary>False when the header line could not be read: <see cref="Header"/> then holds the directory's name as lab id, and nothing else.</summary>
    public bool HasHeader { get; private init; } = true;

    /// <summary>What reading found wrong, each with its line number ("line 7: ..."); empty for an intact journal.</summary>
    public IReadOnlyList<string> Problems => _problems;

    /// <summary>The step the run started last (null before its first step, and in journals of earlier versions).</summary>
    public JournalStep? CurrentStep { get; private set; }

    /// <summary>The journal may not name everything its run made: a header or a record could not be read.</summary>
    public bool Damaged => !HasHeader || _problems.Count > 0;

    public static LabJournal InMemory(JournalHeader header) => new(header, null, null);

    /// <summary>
    /// Creates the run's directory and journal, header on disk, in one rename; fails with an IOException if another
    /// run already uses this lab id, and with the I/O error (e.g. no space left) if it cannot be written, leaving nothing.
    /// </summary>
    public static LabJournal Create(string root, JournalHeader header)
    {
        System.IO.Directory.CreateDirectory(root);
        var directory = Path.Combine(root, header.LabId);
        var staging = Path.Combine(root, $".new-{header.LabId}-{Environment.ProcessId}");
        FileStream? file = null;
        try
        {
            if (System.IO.Directory.Exists(staging)) System.IO.Directory.Delete(staging, recursive: true); // a PID's earlier life
            System.IO.Directory.CreateDirectory(staging);
            file = new FileStream(Path.Combine(staging, FileName), FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0); // unbuffered: a failed write leaves nothing pending
            var journal = new LabJournal(header, directory, file);
            journal.WriteLine(new Line { Header = header }, durable: true);
            Platform.FileSystem.RenameNoReplace(staging, directory);
            return journal;
        }
        catch
        {
            file?.Dispose();
            try { if (System.IO.Directory.Exists(staging)) System.IO.Directory.Delete(staging, recursive: true); }
            catch (IOException) { } // a full disk may refuse even that; `clean` removes a dead PID's .new- directory
            throw;
        }
    }

    /// <summary>
    /// Reads a journal left on disk (by a run that died, for `clean`). Never throws for what is inside: a line that is
    /// not a record is skipped and named in <see cref="Problems"/>; a missing header leaves <see cref="HasHeader"/> false.
    /// </summary>
    public static LabJournal Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        JournalHeader? header = null;
        var records = new List<(int, UndoRecord)>();
        var cancelled = new HashSet<int>();
        JournalStep? step = null;
        var problems = new List<string>();
        var text = File.ReadAllText(path);
        var lines = text.Split('\n');
        // The text after the last newline is a line cut off mid-write (by a kill -9, a full disk): its action was not done.
        for (var i = 0; i < lines.Length; i++)
        {
            var raw = lines[i];
            if (raw.Length == 0) continue;
            var number = i + 1;
            var torn = i == lines.Length - 1;
            Line? line;
            try
            {
                line = JsonSerializer.Deserialize<Line>(raw, Json);
            }
            catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
            {
                problems.Add(torn
                    ? $"line {number}: cut off (the run died while writing it; its action was not done yet)"
                    : $"line {number}: not a journal record ({OneLine(e.Message)}); skipped");
                continue;
            }
            if (line is null) { problems.Add($"line {number}: empty record; skipped"); continue; }
            if (line.Header is not null)
            {
                if (header is null && number == 1) header = line.Header;
                else problems.Add($"line {number}: a second header; skipped");
            }
            else if (line.Undo is not null) records.Add((line.Seq, line.Undo));
            else if (line.Cancel is { } c) cancelled.Add(c);
            else if (line.Step is not null) step = line.Step; // the last one is where the run got to
            else problems.Add($"line {number}: a record of no known kind; skipped");
        }
        if (header is null)
            problems.Insert(0, text.Length == 0 ? "the journal is empty: no header" : "no readable header on line 1: the run's owner is unknown");
        var journal = new LabJournal(header ?? HeaderFor(directory), directory, null) { HasHeader = header is not null };
        journal._records.AddRange(records);
        journal._lastSeq = records.Count == 0 ? 0 : records.Max(r => r.Item1);
        journal._cancelled.UnionWith(cancelled);
        journal._problems.AddRange(problems);
        journal.CurrentStep = step;
        return journal;
    }

    /// <summary>Whether a state directory's name can be a lab id (what a damaged journal's lab is known by).</summary>
    public static bool IsLabId(string name) => LabIdForm().IsMatch(name);

    /// <summary>The journal directories under <paramref name="root"/> (not the ones being created or removed).</summary>
    public static IEnumerable<string> Directories(string root) =>
        System.IO.Directory.Exists(root)
            ? System.IO.Directory.EnumerateDirectories(root).Where(d => !Path.GetFileName(d).StartsWith('.'))
            : [];

    /// <summary>
    /// Directories a run was creating (<c>.new-</c>) or removing (<c>.gone-</c>) when it died, with the PID that did:
    /// neither holds anything the run still owes (records are written only after the rename into place).
    /// </summary>
    public static IEnumerable<(string Path, int Pid)> TransitDirectories(string root)
    {
        if (!System.IO.Directory.Exists(root)) yield break;
        foreach (var dir in System.IO.Directory.EnumerateDirectories(root))
            if (TransitName().Match(Path.GetFileName(dir)) is { Success: true } m)
                yield return (dir, int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static JournalHeader HeaderFor(string directory) =>
        new(Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), 0, 0, "(unknown: the journal's header is damaged)", true, DateTimeOffset.MinValue);

    /// <summary>Records an undo (written before this returns; on disk for a machine crash once the next step starts) and returns its number.</summary>
    /// <exception cref="Engine.EnvironmentProblemException">The record could not be written (e.g. no space left): the action must not be done.</exception>
    public int Append(UndoRecord undo)
    {
        lock (_gate)
        {
            var seq = _lastSeq + 1;
            try
            {
                WriteLine(new Line { Seq = seq, Undo = undo }); // first: a record that is not on disk is not owed
            }
            catch (IOException e)
            {
                throw new Engine.EnvironmentProblemException(
                    $"cannot write the run's journal in {Directory}: {e.Message}; the action it was for was not done",
                    $"free space there (df -h {Path.GetDirectoryName(Directory)}), then run `labrunner clean` if the run left anything");
            }
            _lastSeq = seq;
            _records.Add((seq, undo));
            return seq;
        }
    }

    /// <summary>Marks an undo as not needed: its action failed and made nothing.</summary>
    public void Cancel(int seq)
    {
        lock (_gate)
        {
            _cancelled.Add(seq);
            TryWriteLine(new Line { Cancel = seq });
        }
    }

    /// <summary>
    /// Notes the step the run is starting (for `labrunner ls`). It owes nothing, so it is not a record teardown reads, and
    /// a disk too full to take it does not stop the run (the line is then missing, or cut off and skipped on reading).
    /// </summary>
    public void StepStarted(JournalStep step)
    {
        lock (_gate)
        {
            CurrentStep = step;
            TryWriteLine(new Line { Step = step }, durable: true);
        }
    }

    /// <summary>
    /// The lab deleted this object itself: its pending undos are no longer owed (cancelled, durably).
    /// </summary>
    public void Release(ResourceRef resource)
    {
        lock (_gate)
            foreach (var (seq, undo) in _records)
                if (undo.Resource == resource && !_cancelled.Contains(seq))
                    Cancel(seq);
    }

    /// <summary>The undos still owed, newest first: the order teardown runs them in.</summary>
    public IReadOnlyList<UndoRecord> PendingNewestFirst()
    {
        lock (_gate)
            return [.. _records.Where(r => !_cancelled.Contains(r.Seq)).Reverse().Select(r => r.Undo)];
    }

    /// <summary>Removes the run's directory once teardown left nothing behind (renamed away first: see the remarks).</summary>
    public void Delete()
    {
        _file?.Dispose();
        if (Directory is null || !System.IO.Directory.Exists(Directory)) return;
        var gone = Path.Combine(Path.GetDirectoryName(Directory)!, $".gone-{Path.GetFileName(Directory)}-{Environment.ProcessId}");
        if (System.IO.Directory.Exists(gone)) System.IO.Directory.Delete(gone, recursive: true);
        System.IO.Directory.Move(Directory, gone);
        System.IO.Directory.Delete(gone, recursive: true);
    }

    public void Dispose() => _file?.Dispose();

    /// <summary>
    /// One line, written (write(2): the file is unbuffered) before this returns, so a kill -9 right after finds it: the
    /// page cache is the kernel's, not the process's. <paramref name="durable"/> also fsyncs it, for a machine that
    /// crashes: the header, and each step's start, which makes every record before it durable (fsyncs batched per
    /// step; docs/ARCHITECTURE.md §5 "Durability" says what a machine crash can lose and why nothing is left then).
    /// </summary>
    private void WriteLine(Line line, bool durable = false)
    {
        if (_file is null) return;
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(line, Json) + "\n");
        _file.Write(bytes);
        if (durable) _file.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Cancels are written during teardown too, which must go on when the disk is full: the record in memory is what
    /// this run replays; on disk the undo stays owed, which only makes a later `clean` try it once more.
    /// </summary>
    private void TryWriteLine(Line line, bool durable = false)
    {
        try
        {
            WriteLine(line, durable);
        }
        catch (IOException)
        {
            // see above: teardown goes on from the records in memory
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    // A random id is 6 hex digits; a part of a multi-host lab (labrunner part) has lab id-host, e.g. 3f9a1c-a.
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$")]
    private static partial Regex LabIdForm();

    [GeneratedRegex(@"^\.(?:new|gone)-.*-([0-9]+)$")]
    private static partial Regex TransitName();

    private sealed class Line
    {
        public JournalHeader? Header { get; set; }
        public int Seq { get; set; }
        public UndoRecord? Undo { get; set; }
        public int? Cancel { get; set; }
        public JournalStep? Step { get; set; }
    }
}
