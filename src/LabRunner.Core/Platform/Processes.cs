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
    public static IReadOnlyList<int> WithEnvironment(string name, string value)
    {
        var needle = System.Text.Encoding.UTF8.GetBytes($"{name}={value}\0");
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var environ = File.ReadAllBytes($"{dir}/environ");
                if (Contains(environ, needle) && IsRunning(pid)) found.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone meanwhile, or a kernel thread
            }
        }
        return found;
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        // Entries are NUL-separated; match at the start or right after a NUL.
        var span = haystack.AsSpan();
        var index = 0;
        while (index < span.Length)
        {
            var end = span[index..].IndexOf((byte)0);
            var entryEnd = end < 0 ? span.Length : index + end + 1;
            if (span[index..entryEnd].SequenceEqual(needle) || (end < 0 && span[index..].SequenceEqual(needle.AsSpan()[..^1]))) return true;
            index = entryEnd;
        }
        return false;
    }

    public static bool IsRoot => geteuid() == 0;

    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>Sends a signal; false if the process is gone.</summary>
    public static bool Signal(int pid, int signal) => kill(pid, signal) == 0;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [DllImport("libc")]
    private static extern uint geteuid();
}
