using System.Globalization;
using System.Runtime.InteropServices;

namespace LabRunner.Platform;

/// <summary>What /proc says about processes. A PID alone can be reused; PID plus start time cannot.</summary>
public static class Processes
{
    /// <summary>Start time in clock ticks since boot (field 22 of /proc/PID/stat), or null if no such process.</summary>
    public static long? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may contain spaces and ')', so count fields after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Whether any process has <paramref name="path"/> open (from /proc/*/fd; root sees every process).</summary>
    public static bool AnyHasOpen(string path)
    {
        path = Path.GetFullPath(path);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries($"{dir}/fd"))
                    if (new FileInfo(fd).LinkTarget == path) return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone, or not ours to look at
            }
        }
        return false;
    }

    /// <summary>The parent's PID (field 4 of /proc/PID/stat), or null if no such process.</summary>
    public static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>True if the process exists and has not exited (a zombie counts as exited).</summary>
    public static bool IsRunning(int pid, long? startTime = null)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[stat.LastIndexOf(')') + 2];
            if (state is 'Z' or 'X') return false;
            return startTime is null || StartTime(pid) == startTime;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>PIDs of live processes whose environment holds NAME=VALUE (a label this tool set).</summary>
    public static IReadOnlyList<int> WithEnvironment(string name, string value) =>
        [.. WithEnvironmentName(name).Where(p => p.Value == value).Select(p => p.Pid)];

    /// <summary>Live processes that carry the environment variable NAME, with its value.</summary>
    public static IReadOnlyList<(int Pid, string Value)> WithEnvironmentName(string name) =>
        [.. WithEnvironmentNames([name]).Select(p => (p.Pid, p.Value))];

    /// <summary>Live processes that carry one of the environment variables <paramref name="names"/>, with its value (one look at /proc for all).</summary>
    public static IReadOnlyList<(int Pid, string Name, string Value)> WithEnvironmentNames(IReadOnlyList<string> names)
    {
        var prefixes = names.Select(n => n + "=").ToList();
        var found = new List<(int, string, string)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var entries = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes($"{dir}/environ")).Split('\0');
                var matches = prefixes.Select(prefix => (prefix, entry: entries.FirstOrDefault(e => e.StartsWith(prefix, StringComparison.Ordinal))))
                    .Where(m => m.entry is not null).ToList();
                if (matches.Count == 0 || !IsRunning(pid)) continue;
                found.AddRange(matches.Select(m => (pid, m.prefix[..^1], m.entry![m.prefix.Length..])));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    public static bool IsRoot => geteuid() == 0;

    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>
    /// SIGKILL to <paramref name="pid"/> if it is still the process started at <paramref name="startTime"/>, then waits
    /// up to <paramref name="wait"/> for it to be gone; true once it is (or was never there).
    /// </summary>
    public static bool KillAndWait(int pid, long? startTime, TimeSpan wait)
    {
        if (!IsRunning(pid, startTime)) return true;
        Signal(pid, SIGKILL);
        var until = DateTime.UtcNow + wait;
        while (IsRunning(pid, startTime))
        {
            if (DateTime.UtcNow > until) return false;
            Thread.Sleep(10);
        }
        return true;
    }

    /// <summary>Sends a signal; false if the process is gone.</summary>
    public static bool Signal(int pid, int signal) => kill(pid, signal) == 0;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [DllImport("libc")]
    private static extern uint geteuid();
}
