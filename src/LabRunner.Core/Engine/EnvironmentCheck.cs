using System.Collections.Concurrent;
using System.Diagnostics;
using LabRunner.Model;
using LabRunner.Platform;

namespace LabRunner.Engine;

/// <summary>
/// Before anything runs: are we root, is every tool the scenario needs on PATH, and does the kernel have every
/// feature its kinds need (a VLAN link, netem)? Problems become exit 3 with the one command that fixes them.
/// </summary>
public static class EnvironmentCheck
{
    private static readonly (string Tool, string Package)[] Always =
    [
        ("ip", "iproute2"), ("nsenter", "util-linux"), ("unshare", "util-linux"), ("setsid", "util-linux"),
        ("busybox", "busybox-static"), ("sysctl", "procps"), ("ln", "coreutils"), ("kill", "procps"),
    ];

    /// <param name="searchPath">Where to look for the tools (default: $PATH).</param>
    /// <param name="probeKernel">
    /// Whether the kernel has a feature: null when it has, else what the probe said. Default (as root): the feature's
    /// probe in a throwaway network namespace (<see cref="ProbeKernel"/>).
    /// </param>
    public static IReadOnlyList<string> Problems(Scenario scenario, string runtime = "process", string? searchPath = null,
        Func<KernelFeature, string?>? probeKernel = null)
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
        probeKernel ??= Processes.IsRoot && FindOnPath("unshare", searchPath) is not null ? ProbeKernel : null;
        if (probeKernel is null) return problems;
        foreach (var feature in scenario.AllActions.SelectMany(a => a.KernelFeatures).Distinct())
            if (probeKernel(feature) is { } said)
                problems.Add($"this kernel ({KernelRelease()}) cannot make {feature.Name}: {said.Trim()}; load the module with " +
                             $"`modprobe {feature.Module}`, or run the lab on a kernel built with {feature.Config} (Debian's stock kernel has it)");
        return problems;
    }

    private static string KernelRelease()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            return Environment.OSVersion.VersionString;
        }
    }

    private static readonly ConcurrentDictionary<KernelFeature, string?> Probed = new();

    /// <summary>
    /// Runs a feature's probe in a fresh network namespace that vanishes with it (<c>unshare -n</c>: nothing of the
    /// machine's is touched), once per process. Null when the kernel has the feature, else the probe's error.
    /// </summary>
    public static string? ProbeKernel(KernelFeature feature) => Probed.GetOrAdd(feature, static f =>
    {
        var start = new ProcessStartInfo("unshare", ["-n", "sh", "-c", $"ip link add probe0 type veth peer name probe1 && {f.Probe}"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var probe = Process.Start(start)!;
        var error = probe.StandardError.ReadToEndAsync();
        probe.StandardOutput.ReadToEnd();
        if (!probe.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            probe.Kill(entireProcessTree: true);
            return "the probe did not finish in 10 s";
        }
        return probe.ExitCode == 0 ? null : error.Result.Trim() is { Length: > 0 } e ? e : $"the probe exited {probe.ExitCode}";
    });

    public static string? FindOnPath(string tool, string? searchPath = null)
    {
        var path = searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);
    }
}
