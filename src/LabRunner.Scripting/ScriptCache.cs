using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using LabRunner.Authoring;

namespace LabRunner.Scripting;

/// <summary>
/// Compiled lab scripts kept on disk, so that running an unchanged .csx again skips Roslyn (compiling the article
/// costs about a second; loading the compiled assembly a few milliseconds). An entry is keyed by everything the
/// compiled code depends on: the script as given (its text and path), every file it <c>#load</c>s (their text,
/// recursively), and the exact LabRunner build (the module version ids of LabRunner.Core and LabRunner.Scripting, new
/// on every build) and .NET runtime. A script that references assemblies (<c>#r</c>) or loads a file that cannot be
/// read is not cached: it is compiled every time, as without a cache.
/// </summary>
/// <remarks>
/// The cache is only ever a shortcut: an entry that cannot be read, written or loaded is compiled again, and the
/// compiled script runs exactly as a fresh one does (the same guards, deadline and error positions). An entry is one
/// file, written to a temporary name and renamed, so a reader never sees half of one; at most
/// <see cref="MaxEntries"/> are kept (the least recently used go). Loading an entry runs its code, so the directory
/// must be the user's own: it is created 0700, and one that others may write to is not used.
/// </remarks>
public sealed partial class ScriptCache
{
    /// <summary>The environment variable naming the cache directory, or <c>off</c> for none.</summary>
    public const string EnvironmentVariable = "LABRUNNER_SCRIPT_CACHE";

    private const string Magic = "labrunner-csx-cache-1\n";
    private const string Extension = ".lrcsx";

    public ScriptCache(string directory, int maxEntries = 32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        Directory = directory;
        MaxEntries = maxEntries;
    }

    public string Directory { get; }

    public int MaxEntries { get; }

    /// <summary>Scripts run from the cache since this instance was made.</summary>
    public int Hits => _hits;

    /// <summary>Scripts compiled and stored since this instance was made.</summary>
    public int Stores => _stores;

    private int _hits, _stores;

    /// <summary>
    /// The cache the <c>labrunner</c> command uses: <c>$LABRUNNER_SCRIPT_CACHE</c> (a directory, or <c>off</c>), else
    /// <c>$XDG_CACHE_HOME/labrunner/csx</c>, else <c>~/.cache/labrunner/csx</c>; null when off or there is no home.
    /// </summary>
    /// <param name="variable">Reads an environment variable (default: this process's environment).</param>
    public static ScriptCache? FromEnvironment(Func<string, string?>? variable = null)
    {
        variable ??= Environment.GetEnvironmentVariable;
        if (variable(EnvironmentVariable) is { } given)
            return given.Trim() is "" or "off" or "0" or "false" ? null : new ScriptCache(given);
        if (variable("XDG_CACHE_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg)) return new ScriptCache(Path.Combine(xdg, "labrunner", "csx"));
        return variable("HOME") is { Length: > 0 } home && Path.IsPathRooted(home) ? new ScriptCache(Path.Combine(home, ".cache", "labrunner", "csx")) : null;
    }

    /// <summary>
    /// The key of a script: a SHA-256 over what its compiled form depends on; null when it cannot be cached (an
    /// <c>#r</c>, or a <c>#load</c>ed file that cannot be read).
    /// </summary>
    /// <param name="source">The script's text as it will be compiled (app directives already commented out).</param>
    /// <param name="file">The path as given (it is compiled into the script: positions, [CallerFilePath]).</param>
    internal static string? KeyOf(string source, string file)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            hash.AppendData(BitConverter.GetBytes(bytes.Length));
            hash.AppendData(bytes);
        }
        Add(Magic);
        Add(typeof(Lab).Assembly.ManifestModule.ModuleVersionId.ToString());
        Add(typeof(ScriptCache).Assembly.ManifestModule.ModuleVersionId.ToString());
        Add(Environment.Version.ToString());
        Add(file);
        Add(Path.GetFullPath(file));
        Add(source);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        return AddLoads(source, Path.GetDirectoryName(Path.GetFullPath(file)) ?? System.IO.Directory.GetCurrentDirectory())
            ? Convert.ToHexStringLower(hash.GetHashAndReset())
            : null;

        bool AddLoads(string text, string directory)
        {
            foreach (Match directive in Directive().Matches(text))
            {
                if (directive.Groups["kind"].Value == "r") return false; // an assembly of the user's: not ours to key
                var path = Path.GetFullPath(Path.Combine(directory, directive.Groups["path"].Value));
                Add("#load " + path);
                if (!visited.Add(path)) continue;
                string loaded;
                try { loaded = File.ReadAllText(path); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException) { return false; }
                Add(loaded);
                if (!AddLoads(loaded, Path.GetDirectoryName(path)!)) return false;
            }
            return true;
        }
    }

    /// <summary><c>#load "file"</c> and <c>#r "assembly"</c> at the start of a line (where C# scripts allow them).</summary>
    [GeneratedRegex(@"^[ \t]*#(?<kind>load|r)[ \t]+""(?<path>[^""\r\n]*)""", RegexOptions.Multiline)]
    private static partial Regex Directive();

    /// <summary>The entry stored under <paramref name="key"/>, loaded and ready to run; null when there is none usable.</summary>
    internal CompiledScript? TryLoad(string key)
    {
        if (!Usable()) return null;
        var path = PathOf(key);
        try
        {
            if (!File.Exists(path)) return null;
            var entry = Read(File.ReadAllBytes(path));
            if (entry is null) { TryDelete(path); return null; }
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow); // recently used: kept when older entries go
            Interlocked.Increment(ref _hits);
            return entry;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException or FileLoadException or InvalidDataException)
        {
            TryDelete(path);
            return null;
        }
    }

    /// <summary>Stores a compiled script under <paramref name="key"/>; best effort (a cache that cannot be written is no error).</summary>
    internal void Store(string key, CompiledScript script)
    {
        if (OperatingSystem.IsWindows()) return; // LabRunner runs on Linux; the cache's safety rests on POSIX modes
        try
        {
            if (!System.IO.Directory.Exists(Directory))
                System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (!Usable()) return;
            var temp = Path.Combine(Directory, $".{key}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            File.WriteAllBytes(temp, Write(script));
            File.Move(temp, PathOf(key), overwrite: true);
            Interlocked.Increment(ref _stores);
            Prune();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A directory others may write to could hand us code to run: not used.</summary>
    private bool Usable()
    {
        if (OperatingSystem.IsWindows() || !System.IO.Directory.Exists(Directory)) return false;
        var mode = File.GetUnixFileMode(Directory);
        return (mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) == 0;
    }

    private void Prune()
    {
        var entries = new DirectoryInfo(Directory).GetFiles("*" + Extension).OrderByDescending(f => f.LastWriteTimeUtc).ToList();
        foreach (var old in entries.Skip(MaxEntries)) TryDelete(old.FullName);
        foreach (var stale in new DirectoryInfo(Directory).GetFiles(".*.tmp").Where(f => f.LastWriteTimeUtc < DateTime.UtcNow.AddHours(-1)))
            TryDelete(stale.FullName); // left by a process killed while writing
    }

    private string PathOf(string key) => Path.Combine(Directory, key + Extension);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    // One entry: the magic line, then four length-prefixed parts: the entry point ("type\nmethod\nguarded"), the PE
    // image, its portable PDB (line numbers in the script's exceptions), and a SHA-256 of the three.
    private static byte[] Write(CompiledScript script)
    {
        using var stream = new MemoryStream();
        stream.Write(Encoding.UTF8.GetBytes(Magic));
        var header = Encoding.UTF8.GetBytes($"{script.TypeName}\n{script.MethodName}\n{(script.Guarded ? 1 : 0)}");
        foreach (var part in new[] { header, script.Image, script.Symbols, SHA256.HashData([.. header, .. script.Image, .. script.Symbols]) })
        {
            stream.Write(BitConverter.GetBytes(part.Length));
            stream.Write(part);
        }
        return stream.ToArray();
    }

    private static CompiledScript? Read(byte[] bytes)
    {
        var magic = Encoding.UTF8.GetBytes(Magic);
        if (bytes.Length < magic.Length || !bytes.AsSpan(0, magic.Length).SequenceEqual(magic)) return null;
        var at = magic.Length;
        var parts = new byte[4][];
        for (var i = 0; i < parts.Length; i++)
        {
            if (at + 4 > bytes.Length) return null;
            var length = BitConverter.ToInt32(bytes, at);
            at += 4;
            if (length < 0 || at + length > bytes.Length) return null;
            parts[i] = bytes[at..(at + length)];
            at += length;
        }
        if (at != bytes.Length || !SHA256.HashData([.. parts[0], .. parts[1], .. parts[2]]).AsSpan().SequenceEqual(parts[3])) return null;
        var header = Encoding.UTF8.GetString(parts[0]).Split('\n');
        return header.Length == 3 ? new CompiledScript(parts[1], parts[2], header[0], header[1], header[2] == "1") : null;
    }
}

/// <summary>
/// A lab script compiled to an assembly: its image and symbols, the submission factory Roslyn made its entry point,
/// and whether the guarded (rewritten) form is what was compiled.
/// </summary>
internal sealed record CompiledScript(byte[] Image, byte[] Symbols, string TypeName, string MethodName, bool Guarded)
{
    /// <summary>
    /// Loads the assembly (a context of its own, so the same script can be loaded twice; LabRunner's types come from
    /// the default context, so the lab it returns is ours) and returns what runs it: Roslyn's submission factory,
    /// given the submission array a single script needs (globals, then the submission itself).
    /// </summary>
    public Func<Task<object>> Load()
    {
        var context = new AssemblyLoadContext($"labrunner script {TypeName}");
        using var image = new MemoryStream(Image, writable: false);
        using var symbols = new MemoryStream(Symbols, writable: false);
        var assembly = context.LoadFromStream(image, symbols);
        var factory = assembly.GetType(TypeName, throwOnError: true)!
            .GetMethod(MethodName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new InvalidDataException($"the compiled script has no {MethodName}");
        var run = factory.CreateDelegate<Func<object[], Task<object>>>();
        return () => run(new object[2]);
    }
}
