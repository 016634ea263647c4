using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using LabRunner.Engine;
using LabRunner.Model;
using LabRunner.Runtimes;
using Xunit;

namespace LabRunner.Xunit;

/// <summary>
/// Whether this machine can run labs: root, the tools every lab needs, extra tools a test names, and a known
/// container runtime. Each problem is said with its fix, as `labrunner run` says it (exit 3).
/// </summary>
public static class LabRequirements
{
    private static readonly Scenario Nothing = new("requirements", null, Uplink.Default, [], SourceSpan.None);

    /// <summary>Tools a runtime needs besides those of every lab (checked only for runtimes this build knows).</summary>
    private static readonly ImmutableDictionary<string, string> RuntimeTools =
        ImmutableDictionary<string, string>.Empty.Add("containerd", "ctr").Add("docker", "docker");

    /// <summary>Null when labs can run here; else why not and what to do, on one line.</summary>
    public static string? Problem(IEnumerable<string>? tools = null, string runtime = "process") =>
        Problem(Nothing, tools, runtime);

    /// <summary>The same, for one scenario (it may need iptables, say).</summary>
    public static string? Problem(Scenario scenario, IEnumerable<string>? tools = null, string runtime = "process")
    {
        var problems = EnvironmentCheck.Problems(scenario).ToList();
        var missing = (tools ?? []).Where(t => EnvironmentCheck.FindOnPath(t) is null).ToList();
        if (missing.Count > 0) problems.Add($"missing tools this test needs: {string.Join(", ", missing)} (install them, e.g. with ./run-lab.sh or apt-get)");
        if (!ContainerRuntimes.Names.Contains(runtime))
            problems.Add($"container runtime '{runtime}' is not available in this LabRunner build (known: {string.Join(", ", ContainerRuntimes.Names)})");
        else if (RuntimeTools.TryGetValue(runtime, out var tool) && EnvironmentCheck.FindOnPath(tool) is null)
            problems.Add($"container runtime '{runtime}' needs '{tool}' on PATH");
        return problems.Count == 0 ? null : "cannot run labs here: " + string.Join("; ", problems);
    }
}

/// <summary>
/// A fact that runs a real lab: skipped, with the reason and its fix, when the machine cannot run labs (not root,
/// a tool or the runtime missing). <c>[LabFact(Tools = ["tcpdump"], Runtime = "process")]</c>.
/// </summary>
public sealed class LabFactAttribute : FactAttribute
{
    private string[] _tools = [];
    private string _runtime = "process";

    public LabFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber) => Skip = LabRequirements.Problem();

    /// <summary>Tools the test needs besides those of every lab.</summary>
    public string[] Tools
    {
        get => _tools;
        set { _tools = value; Skip = LabRequirements.Problem(_tools, _runtime); }
    }

    /// <summary>The container runtime the test needs (default: the built-in process runtime).</summary>
    public string Runtime
    {
        get => _runtime;
        set { _runtime = value; Skip = LabRequirements.Problem(_tools, _runtime); }
    }
}

/// <summary>A theory that runs real labs; skipped like <see cref="LabFactAttribute"/> when the machine cannot run them.</summary>
public sealed class LabTheoryAttribute : TheoryAttribute
{
    private string[] _tools = [];
    private string _runtime = "process";

    public LabTheoryAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber) => Skip = LabRequirements.Problem();

    public string[] Tools
    {
        get => _tools;
        set { _tools = value; Skip = LabRequirements.Problem(_tools, _runtime); }
    }

    public string Runtime
    {
        get => _runtime;
        set { _runtime = value; Skip = LabRequirements.Problem(_tools, _runtime); }
    }
}
