using System.Collections.Immutable;
using System.Diagnostics;
using System.Text;
using LabRunner.Authoring;
using LabRunner.Loading;
using LabRunner.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
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
public static class LabScript
{
    /// <summary>Namespaces a lab script can use without <c>using</c>.</summary>
    public static readonly ImmutableArray<string> Imports =
        ["System", "System.Collections.Generic", "System.Linq", "LabRunner.Authoring", "LabRunner.Model"];

    public static async Task<Scenario> LoadFileAsync(string path, CancellationToken ct = default)
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
        return await LoadAsync(code, path, ct);
    }

    /// <param name="code">The script's text.</param>
    /// <param name="file">The path errors and the lab's source positions name (as given: relative stays relative).</param>
    public static async Task<Scenario> LoadAsync(string code, string file, CancellationToken ct = default)
    {
        var script = Compile(code, file, ct);
        object? value;
        try
        {
            var state = await script.RunAsync(cancellationToken: ct);
            value = state.ReturnValue;
        }
        catch (ScenarioInvalidException)
        {
            throw; // the script called Build() itself: its errors already point into the script
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            throw Invalid(WhereInScript(e, file) ?? new SourceSpan(file, 1, 1),
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

    /// <summary>Compiles the script; throws with every compile error as file:line:col: error CSxxxx: message.</summary>
    private static Script<object> Compile(string code, string file, CancellationToken ct)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(file)) ?? Directory.GetCurrentDirectory();
        var options = ScriptOptions.Default
            .WithFilePath(file)
            .WithFileEncoding(Encoding.UTF8)
            .WithEmitDebugInformation(true) // line numbers in exceptions thrown by the script
            .AddReferences(typeof(Lab).Assembly, typeof(ImmutableArray).Assembly)
            .AddImports(Imports)
            .WithSourceResolver(new AsGivenSourceResolver(file, ScriptSourceResolver.Default.WithBaseDirectory(directory)))
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(directory));
        var script = CSharpScript.Create<object>(WithoutAppDirectives(code), options);
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

    /// <summary>The line of the script where the exception was thrown (the innermost frame in the script file).</summary>
    private static SourceSpan? WhereInScript(Exception e, string file)
    {
        var full = Path.GetFullPath(file);
        foreach (var frame in new StackTrace(e, fNeedFileInfo: true).GetFrames())
        {
            var name = frame.GetFileName();
            if (name is null || frame.GetFileLineNumber() <= 0) continue;
            if (name == file || Path.GetFullPath(name) == full)
                return new SourceSpan(file, frame.GetFileLineNumber(), Math.Max(1, frame.GetFileColumnNumber()));
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

/// <summary>Loads a lab file by its extension: .yaml/.yml with the YAML loader, .csx as a C# script.</summary>
public static class LabFiles
{
    public static readonly ImmutableArray<string> YamlExtensions = [".yaml", ".yml"];
    public const string ScriptExtension = ".csx";

    public static bool IsScript(string path) => Path.GetExtension(path).Equals(ScriptExtension, StringComparison.OrdinalIgnoreCase);

    public static async Task<Scenario> LoadAsync(string path, CancellationToken ct = default) =>
        IsScript(path) ? await LabScript.LoadFileAsync(path, ct) : ScenarioLoader.LoadFile(path);

    /// <summary>The same, blocking (the CLI's loading path is synchronous; a script runs on the thread pool).</summary>
    public static Scenario Load(string path) =>
        IsScript(path) ? Task.Run(() => LabScript.LoadFileAsync(path)).GetAwaiter().GetResult() : ScenarioLoader.LoadFile(path);
}
