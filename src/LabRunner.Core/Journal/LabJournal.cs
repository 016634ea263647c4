using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LabRunner.Journal;

/// <summary>Who owns a journal: a run is dead (and `clean` may replay it) when this process is gone.</summary>
public sealed record JournalHeader(
    string LabId,
    int OwnerPid,
    long OwnerStartTime,
    string Scenario,
    bool Sandbox,
    DateTimeOffset Started);

/// <summary>
/// The write-ahead undo log of one run: /run/labrunner/LABID/journal, one JSON line per record,
/// flushed to disk before the action it undoes is done. Teardown replays it in reverse.
/// A record is cancelled when its action failed and so made nothing.
/// </summary>
public sealed class LabJournal : IDisposable
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
    private readonly FileStream? _file;
    private readonly object _gate = new();

    private LabJournal(JournalHeader header, string? directory, FileStream? file)
    {
        Header = header;
        Directory = directory;
        _file = file;
    }

    public JournalHeader Header { get; }

    /// <summary>The run's state directory; null for an in-memory journal (labrunner plan).</summary>
    public string? Directory { get; }

    public static LabJournal InMemory(JournalHeader header) => new(header, null, null);

    /// <summary>Creates the run's directory and journal; fails if another run already uses this lab id.</summary>
    public static LabJournal Create(string root, JournalHeader header)
    {
        System.IO.Directory.CreateDirectory(root);
        var directory = Path.Combine(root, header.LabId);
        // CreateDirectory succeeds on an existing directory, so claim the id with an exclusive file create.
        System.IO.Directory.CreateDirectory(directory);
        var file = new FileStream(Path.Combine(directory, FileName), FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        var journal = new LabJournal(header, directory, file);
        journal.WriteLine(new Line { Header = header });
        return journal;
    }

    /// <summary>Reads a journal left on disk (by a run that died, for `clean`).</summary>
    public static LabJournal Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        JournalHeader? header = null;
        var records = new List<(int, UndoRecord)>();
        var cancelled = new HashSet<int>();
        foreach (var text in File.ReadLines(path))
        {
            Line? line;
            try { line = JsonSerializer.Deserialize<Line>(text, Json); }
            catch (JsonException) { continue; } // a torn last line from a crash mid-write: the action was not done yet
            if (line is null) continue;
            if (line.Header is not null) header = line.Header;
            if (line.Undo is not null) records.Add((line.Seq, line.Undo));
            if (line.Cancel is { } c) cancelled.Add(c);
        }
        if (header is null) throw new InvalidDataException($"{path} has no header line; remove {directory} by hand after checking it");
        var journal = new LabJournal(header, directory, null);
        journal._records.AddRange(records);
        journal._cancelled.UnionWith(cancelled);
        return journal;
    }

    /// <summary>Records an undo (durably) and returns its number.</summary>
    public int Append(UndoRecord undo)
    {
        lock (_gate)
        {
            var seq = _records.Count + 1;
            _records.Add((seq, undo));
            WriteLine(new Line { Seq = seq, Undo = undo });
            return seq;
        }
    }

    /// <summary>Marks an undo as not needed: its action failed and made nothing.</summary>
    public void Cancel(int seq)
    {
        lock (_gate)
        {
            _cancelled.Add(seq);
            WriteLine(new Line { Cancel = seq });
        }
    }

    /// <summary>
    /// The lab deleted this object itself: its pending undos are no longer owed (cancelled, durably).
    /// </summary>
    public void Release(string resource)
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

    /// <summary>Removes the run's directory once teardown left nothing behind.</summary>
    public void Delete()
    {
        _file?.Dispose();
        if (Directory is not null && System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
    }

    public void Dispose() => _file?.Dispose();

    private void WriteLine(Line line)
    {
        if (_file is null) return;
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(line, Json) + "\n");
        _file.Write(bytes);
        _file.Flush(flushToDisk: true);
    }

    private sealed class Line
    {
        public JournalHeader? Header { get; set; }
        public int Seq { get; set; }
        public UndoRecord? Undo { get; set; }
        public int? Cancel { get; set; }
    }
}
