using System.Collections.Immutable;
using System.Diagnostics;
using System.Text;
using LabRunner.Authoring;
using LabRunner.Loading;
using LabRunner.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Scripting;

namespace LabRunner.Scripting;

/// <summary>
/// Runs a .csx lab with Roslyn scripting and returns the scenario it builds. The script sees the authoring API
/// (<see cref="Lab"/>, imported with LabRunner.Authoring and LabRunner.Model) and returns the lab: a
/// <see cref="LabBuilder"/> or a <see cref="Scenario"/>, with <c>return lab;</c> or as its last expression.
/// Running the script only builds the lab; nothing touches the machine until the engine runs the scenario.
/// Every problem (compile error, exception in the script, invalid lab) is a <see cref="ScenarioInvalidException"/>
/// whose errors read file:line:col, like the YAML loader's.
/// </summary>
/// <remarks>
/// A script runs under a limit (<see cref="DefaultTimeout"/>, or the timeout given): it is rewritten first
/// (<see cref="ScriptGuards"/>) so that a recursion without end throws at its line instead of overflowing the stack
/// (which kills the process: no .NET code can catch it), and a loop without end stops at its line once the time is
/// up; it runs on a thread of its own, abandoned if it is still running a moment after the deadline (a script blocked
/// in a call of its own: nothing has been touched yet, and the error has no position then).
/// </remarks>
public static class LabScript
{
    /// <summary>Namespaces a lab script can use without <c>using</c>.</summary>
    public static readonly ImmutableArray<string> Imports =
        ["System", "System.Collections.Generic", "System.Linq", "LabRunner.Authoring", "LabRunner.Model"];

    /// <summary>How long a lab script may run to build its lab, unless told (<c>--script-timeout</c>).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long after the deadline a script that did not stop at one of its checks is abandoned.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    public static Task<Scenario> LoadFileAsync(string path, CancellationToken ct = default) => LoadFileAsync(path, DefaultTimeout, ct);

    /// <param name="timeout">How long the script may run (compiling excluded); positive.</param>
    public static Task<Scenario> LoadFileAsync(string path, TimeSpan timeout, CancellationToken ct = default) => LoadFileAsync(path, timeout, null, ct);

    /// <param name="timeout">How long the script may run (compiling excluded); positive.</param>
    /// <param name="cache">Where compiled scripts are kept between runs (<see cref="ScriptCache"/>); null: compile every time.</param>
    public static async Task<Scenario> LoadFileAsync(string path, TimeSpan timeout, ScriptCache? cache, CancellationToken ct = default)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            throw Invalid(new SourceSpan(path, 0, 0), $"no such file: {path}", "check the path");
        if (info.Length > ScenarioLoader.MaxFileBytes)
            throw Invalid(new SourceSpan(path, 1, 1), $"file is {info.Length} bytes; a lab may be at most {ScenarioLoader.MaxFileBytes}");
        string code;
        try
        {
            code = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(await File.ReadAllBytesAsync(path, ct));
        }
        catch (DecoderFallbackException)
        {
            throw Invalid(new SourceSpan(path, 1, 1), "file is not valid UTF-8 text", "save the lab as UTF-8");
        }
        return await LoadAsync(code, path, timeout, cache, ct);
    }

    /// <param name="code">The script's text.</param>
    /// <param name="file">The path errors and the lab's source positions name (as given: relative stays relative).</param>
    /// <param name="ct">Cancels the script.</param>
    public static Task<Scenario> LoadAsync(string code, string file, CancellationToken ct = default) => LoadAsync(code, file, DefaultTimeout, ct);

    /// <param name="code">The script's text.</param>
    /// <param name="file">The path errors and the lab's source positions name (as given: relative stays relative).</param>
    /// <param name="timeout">How long the script may run (compiling excluded); positive.</param>
    /// <param name="ct">Cancels the script.</param>
    public static Task<Scenario> LoadAsync(string code, string file, TimeSpan timeout, CancellationToken ct = default) => LoadAsync(code, file, timeout, null, ct);

    /// <param name="code">The script's text.</param>
    /// <param name="file">The path errors and the lab's source positions name (as given: relative stays relative).</param>
    /// <param name="timeout">How long the script may run (compiling excluded); positive.</param>
    /// <param name="cache">Where compiled scripts are kept between runs (<see cref="ScriptCache"/>); null: compile every time.</param>
    /// <param name="ct">Cancels the script.</param>
    public static async Task<Scenario> LoadAsync(string code, string file, TimeSpan timeout, ScriptCache? cache, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        var source = WithoutAppDirectives(code);
        var (run, guarded) = Prepare(source, file, cache, ct);
        // The guards' map from the rewritten script back to the written one: only needed to place an error (and
        // made again from the source then: a script run from the cache is not parsed at all).
        var guards = guarded ? new Lazy<ScriptGuards?>(() => ScriptGuards.Of(source)) : new Lazy<ScriptGuards?>((ScriptGuards?)null);
        object? value;
        try
        {
            value = await RunAsync(run, timeout, ct);
        }
        catch (ScenarioInvalidException)
        {
            throw; // the script called Build() itself: its errors already point into the script
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (ScriptTimeoutException e)
        {
            throw Invalid(WhereInScript(e, file, guards.Value) ?? new SourceSpan(file, 1, 1),
                $"the script did not finish within {Seconds(timeout)} s (--script-timeout)",
                "is there a loop or a wait without an end? A lab script only builds the lab; if it really needs longer, raise --script-timeout SECONDS");
        }
        catch (InsufficientExecutionStackException e)
        {
            throw Invalid(WhereInScript(e, file, guards.Value) ?? new SourceSpan(file, 1, 1),
                "the script recursed too deeply: it would have overflowed the stack",
                "the line named here is in the function that kept calling itself: give the recursion an end");
        }
        catch (Exception e)
        {
            throw Invalid(WhereInScript(e, file, guards.Value) ?? new SourceSpan(file, 1, 1),
                $"the script threw {e.GetType().Name}: {e.Message}", "the line named here threw while the lab was being built");
        }

        return value switch
        {
            LabBuilder builder => builder.Build(),
            Scenario scenario => Validated(scenario),
            null => throw Invalid(EndOf(code, file), "the script returned no lab",
                "end it with `return lab;` where lab is the Lab.Named(...) builder (or its last expression, without ';')"),
            _ => throw Invalid(EndOf(code, file), $"the script returned a {value.GetType().Name}, not a lab",
                "return the Lab.Named(...) builder or the Scenario it builds"),
        };
    }

    /// <summary>Seconds as a user writes them: 30, 2.5.</summary>
    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Runs the script on a thread of its own under <paramref name="timeout"/> and returns its value. The guards the
    /// script was given throw at its line when the time is up; a script blocked elsewhere is abandoned after a grace.
    /// </summary>
    private static async Task<object?> RunAsync(Func<Task<object>> run, TimeSpan timeout, CancellationToken ct)
    {
        var done = new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                ScriptGuard.Begin(timeout, ct); // flows to the tasks the script starts
                run().ContinueWith(t =>
                {
                    if (t.IsCanceled) done.TrySetCanceled(ct);
                    else if (t.Exception is { } e) done.TrySetException(e.InnerExceptions);
                    else done.TrySetResult(t.Result);
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        })
        { IsBackground = true, Name = "labrunner lab script" };
        thread.Start();
        try
        {
            return await done.Task.WaitAsync(timeout + Grace, ct);
        }
        catch (TimeoutException) when (!done.Task.IsCompleted)
        {
            // Still running past every check of its own: abandoned (a background thread; nothing has been touched).
            throw new ScriptTimeoutException(timeout);
        }
    }

    /// <summary>
    /// The script compiled and loaded, ready to run (compiling is not the script's time): from the cache when it holds
    /// this script, else compiled (guarded: <see cref="Compile(string, ScriptGuards, string, CancellationToken)"/>),
    /// emitted, stored in the cache and loaded from what was stored, so a first and a second run run the same code.
    /// </summary>
    private static (Func<Task<object>> Run, bool Guarded) Prepare(string source, string file, ScriptCache? cache, CancellationToken ct)
    {
        var key = cache is null ? null : ScriptCache.KeyOf(source, file);
        if (key is not null && cache!.TryLoad(key) is { } cached && TryLoad(cached) is { } fromCache)
            return (fromCache, cached.Guarded);

        var (script, guarded) = Compile(source, ScriptGuards.Of(source), file, ct);
        if (key is not null && Emit(script, guarded, ct) is { } compiled && TryLoad(compiled) is { } fresh)
        {
            cache!.Store(key, compiled);
            return (fresh, guarded);
        }
        var run = script.CreateDelegate(ct);
        return (() => run(cancellationToken: ct), guarded);
    }

    private static Func<Task<object>>? TryLoad(CompiledScript compiled)
    {
        try
        {
            return compiled.Load();
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or TypeLoadException or InvalidDataException or ArgumentException or MissingMethodException)
        {
            return null; // a damaged entry: compiled again
        }
    }

    /// <summary>The compiled script as an assembly with its symbols, and Roslyn's entry point into it; null if it cannot be.</summary>
    private static CompiledScript? Emit(Script<object> script, bool guarded, CancellationToken ct)
    {
        var compilation = script.GetCompilation();
        using var image = new MemoryStream();
        using var symbols = new MemoryStream();
        var emitted = compilation.Emit(image, symbols, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.PortablePdb), cancellationToken: ct);
        if (!emitted.Success || compilation.GetEntryPoint(ct) is not { } entry) return null;
        var type = entry.ContainingType;
        var typeName = type.ContainingNamespace is { IsGlobalNamespace: false } ns ? $"{ns.ToDisplayString()}.{type.MetadataName}" : type.MetadataName;
        return type.ContainingType is null ? new CompiledScript(image.ToArray(), symbols.ToArray(), typeName, entry.MetadataName, guarded) : null;
    }

    /// <summary>
    /// Compiles the script as rewritten by its guards (compile errors are then reported from the script as written,
    /// so they read exactly as the user wrote). Should the rewritten script not compile where the original does, the
    /// original runs, bounded only by the thread deadline (Guarded false).
    /// </summary>
    private static (Script<object> Script, bool Guarded) Compile(string code, ScriptGuards guards, string file, CancellationToken ct)
    {
        var guarded = Create(guards.Code, file);
        if (!guarded.Compile(ct).Any(d => d.Severity == DiagnosticSeverity.Error)) return (guarded, true);
        return (Compile(code, file, ct), false);
    }

    private static Script<object> Create(string code, string file)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(file)) ?? Directory.GetCurrentDirectory();
        var options = ScriptOptions.Default
            .WithFilePath(file)
            .WithFileEncoding(Encoding.UTF8)
            .WithEmitDebugInformation(true) // line numbers in exceptions thrown by the script
            .AddReferences(typeof(Lab).Assembly, typeof(ImmutableArray).Assembly, typeof(ScriptGuard).Assembly)
            .AddImports(Imports)
            .WithSourceResolver(new AsGivenSourceResolver(file, ScriptSourceResolver.Default.WithBaseDirectory(directory)))
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(directory));
        return CSharpScript.Create<object>(code, options);
    }

    /// <summary>Compiles the script; throws with every compile error as file:line:col: error CSxxxx: message.</summary>
    private static Script<object> Compile(string code, string file, CancellationToken ct)
    {
        var script = Create(code, file);
        var errors = script.Compile(ct)
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .OrderBy(d => d.Location.SourceSpan.Start)
            .Select(d => new ScenarioError(SpanOf(d, file), d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)) { Code = d.Id })
            .ToImmutableArray();
        if (errors.Length > 0) throw new ScenarioInvalidException(errors);
        return script;
    }

    /// <summary>
    /// File-based app directives (<c>#:package</c>, <c>#:project</c>, <c>#:property</c>, <c>#:sdk</c>) are for
    /// <c>dotnet run</c>; here they become comments, so the same file works in both and line numbers stay.
    /// </summary>
    internal static string WithoutAppDirectives(string code)
    {
        if (!code.Contains("#:", StringComparison.Ordinal)) return code;
        var lines = code.Split('\n');
        for (var i = 0; i < lines.Length; i++)
            if (lines[i].TrimStart().StartsWith("#:", StringComparison.Ordinal)) lines[i] = "//" + lines[i];
        return string.Join('\n', lines);
    }

    private static SourceSpan SpanOf(Diagnostic d, string file)
    {
        if (!d.Location.IsInSource) return new SourceSpan(file, 1, 1);
        var span = d.Location.GetMappedLineSpan();
        var path = string.IsNullOrEmpty(span.Path) ? file : span.Path;
        return new SourceSpan(path, span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1);
    }

    /// <summary>
    /// The line of the script where the exception was thrown (the innermost frame in the script file), as the script
    /// was written (<paramref name="guards"/> maps the columns of the rewritten script back).
    /// </summary>
    private static SourceSpan? WhereInScript(Exception e, string file, ScriptGuards? guards)
    {
        var full = Path.GetFullPath(file);
        foreach (var frame in new StackTrace(e, fNeedFileInfo: true).GetFrames())
        {
            var name = frame.GetFileName();
            if (name is null || frame.GetFileLineNumber() <= 0) continue;
            if (name == file || Path.GetFullPath(name) == full)
            {
                var (line, column) = (frame.GetFileLineNumber(), Math.Max(1, frame.GetFileColumnNumber()));
                if (guards is not null) (line, column) = guards.Original(line, column);
                return new SourceSpan(file, line, column);
            }
        }
        return null;
    }

    private static SourceSpan EndOf(string code, string file)
    {
        var lines = code.TrimEnd().Split('\n');
        return new SourceSpan(file, Math.Max(1, lines.Length), 1);
    }

    private static Scenario Validated(Scenario scenario)
    {
        var errors = ScenarioValidator.Validate(scenario);
        return errors.Length > 0 ? throw new ScenarioInvalidException(errors) : scenario;
    }

    private static ScenarioInvalidException Invalid(SourceSpan span, string message, string? hint = null) =>
        new([new ScenarioError(span, message, hint)]);
}

/// <summary>
/// Roslyn makes [CallerFilePath] absolute through the source resolver; this one keeps the script's own path as the
/// user gave it, so a C# lab's errors name the file as a YAML lab's do (scenarios/x.csx:12:1, not /home/...).
/// Everything else (#load) is the default resolver's.
/// </summary>
internal sealed class AsGivenSourceResolver(string file, SourceReferenceResolver inner) : SourceReferenceResolver
{
    public override string? NormalizePath(string path, string? baseFilePath) =>
        path == file ? file : inner.NormalizePath(path, baseFilePath);

    public override string? ResolveReference(string path, string? baseFilePath) => inner.ResolveReference(path, baseFilePath);

    public override Stream OpenRead(string resolvedPath) => inner.OpenRead(resolvedPath);

    public override bool Equals(object? other) => other is AsGivenSourceResolver o && o.File == file && o.Inner.Equals(inner);

    public override int GetHashCode() => HashCode.Combine(file, inner);

    private string File => file;

    private SourceReferenceResolver Inner => inner;
}

/// <summary>
/// Loads a lab file by its extension: .yaml/.yml with the YAML loader, .csx as a C# script. A regular file with any
/// other extension (or none) is refused: it is not guessed to be YAML. What has no name to go by is read as YAML: a
/// descriptor (<c>/dev/stdin</c>, the <c>/dev/fd/N</c> of a shell's <c>&lt;(…)</c>, whatever it is open on) and what
/// is no regular file (a named pipe, a device). A C# lab cannot come that way: it loads files relative to itself.
/// </summary>
public static class LabFiles
{
    public static readonly ImmutableArray<string> YamlExtensions = [".yaml", ".yml"];
    public const string ScriptExtension = ".csx";

    public static bool IsScript(string path) => Path.GetExtension(path).Equals(ScriptExtension, StringComparison.OrdinalIgnoreCase);

    public static bool IsYaml(string path) => YamlExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="path"/> is a regular file (not a pipe or device): only such a lab can be bundled or read again.</summary>
    public static bool IsRegularFile(string path) => Platform.FileSystem.IsRegularFile(path) == true;

    /// <summary>/dev/stdin, /dev/fd/N, /proc/self/fd/N: a name for whatever a descriptor is open on, which says nothing of its kind.</summary>
    public static bool IsDescriptor(string path) =>
        path is "/dev/stdin" or "/proc/self/fd/0" || path.StartsWith("/dev/fd/", StringComparison.Ordinal) || path.StartsWith("/proc/self/fd/", StringComparison.Ordinal);

    /// <summary>Refuses (a <see cref="ScenarioInvalidException"/>, exit 2) a regular file that is neither .yaml/.yml nor .csx.</summary>
    public static void CheckExtension(string path)
    {
        if (IsScript(path) || IsYaml(path) || IsDescriptor(path) || !IsRegularFile(path)) return; // a missing file or a directory: the loader says so
        var extension = Path.GetExtension(path);
        throw new ScenarioInvalidException([new ScenarioError(new SourceSpan(path, 0, 0),
            $"{(extension.Length == 0 ? "a file without an extension" : $"'{extension}'")} is no lab file: a YAML lab is .yaml or .yml, a C# lab .csx",
            "rename the file, or give it through a pipe to have it read as YAML (labrunner validate - < FILE)")]);
    }

    /// <param name="scriptTimeout">How long a .csx may run to build its lab (default <see cref="LabScript.DefaultTimeout"/>).</param>
    /// <param name="cache">Where compiled scripts are kept between runs; null: compile every time.</param>
    public static async Task<Scenario> LoadAsync(string path, CancellationToken ct = default, TimeSpan? scriptTimeout = null, ScriptCache? cache = null)
    {
        CheckExtension(path);
        return IsScript(path) ? await LabScript.LoadFileAsync(path, scriptTimeout ?? LabScript.DefaultTimeout, cache, ct) : ScenarioLoader.LoadFile(path);
    }

    /// <summary>The same, blocking (the CLI's loading path is synchronous; a script runs on a thread of its own).</summary>
    public static Scenario Load(string path, TimeSpan? scriptTimeout = null, ScriptCache? cache = null)
    {
        CheckExtension(path);
        return IsScript(path) ? Task.Run(() => LabScript.LoadFileAsync(path, scriptTimeout ?? LabScript.DefaultTimeout, cache)).GetAwaiter().GetResult() : ScenarioLoader.LoadFile(path);
    }
}
