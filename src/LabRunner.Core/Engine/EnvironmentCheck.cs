using LabRunner.Model;
using LabRunner.Platform;

namespace LabRunner.Engine;

/// <summary>
/// Before anything runs: are we root, and is every tool the scenario needs on PATH? Problems become exit 3
/// with the one command that fixes them.
/// </summary>
public static class EnvironmentCheck
{
    private static readonly (string Tool, string Package)[] Always =
    [
        ("ip", "iproute2"), ("nsenter", "util-linux"), ("unshare", "util-linux"), ("setsid", "util-linux"),
        ("busybox", "busybox-static"), ("sysctl", "procps"), ("ln", "coreutils"), ("kill", "procps"),
    ];

    /// <param name="searchPath">Where to look for the tools (default: $PATH).</param>
    public static IReadOnlyList<string> Problems(Scenario scenario, string runtime = "process", string? searchPath = null)
    {
        var problems = new List<string>();
        if (!Processes.IsRoot)
            problems.Add("labrunner run needs root (it creates network namespaces and links): run it with sudo, or as root in a VM");
        var needed = Always.ToList();
        // Each kind names the tools it runs beyond these.
        needed.AddRange(scenario.AllActions.SelectMany(a => a.Tools).Concat(scenario.Steps.SelectMany(s => s.Expectations).SelectMany(e => e.Tools))
            .Select(t => (t.Name, t.Package)).Distinct().Where(t => !needed.Contains(t)));
        if (runtime == "containerd") needed.Add(("ctr", "containerd"));
        var missing = needed.Where(t => FindOnPath(t.Tool, searchPath) is null).ToList();
        if (missing.Count > 0)
            problems.Add($"missing tools: {string.Join(", ", missing.Select(m => m.Tool))}; install them with: " +
                         $"apt-get install -y {string.Join(' ', missing.Select(m => m.Package).Distinct())} (or run ./run-lab.sh, which installs them)");
        return problems;
    }

    public static string? FindOnPath(string tool, string? searchPath = null)
    {
        var path = searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);
    }
}
