using System.Globalization;
using System.Runtime.InteropServices;

namespace LabRunner.Platform;

/// <summary>
/// File descriptors a child would inherit. .NET opens its own files close-on-exec, but descriptors inherited from our
/// caller are not (`flock LOCK labrunner run …`, a shell's `exec 9>lock`): every child, a container living for minutes
/// included, would hold them open, and the caller's lock with them. Marked close-on-exec, they stay ours alone.
/// </summary>
public static class Descriptors
{
    private const int F_GETFD = 1;
    private const int F_SETFD = 2;
    private const int FD_CLOEXEC = 1;

    private static readonly Lazy<int> Marked = new(MarkInheritedCloseOnExec);

    /// <summary>Once per process (the CLI at start, the engine when used in-process): marks every fd from 3 up close-on-exec.</summary>
    public static void CloseInheritedOnExec() => _ = Marked.Value;

    /// <summary>Marks every open fd from 3 up close-on-exec; returns how many were not.</summary>
    public static int MarkInheritedCloseOnExec()
    {
        var marked = 0;
        foreach (var entry in Directory.GetFileSystemEntries("/proc/self/fd")) // a snapshot: the directory's own fd is among them
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var fd) || fd < 3) continue;
            var flags = fcntl(fd, F_GETFD, 0);
            if (flags < 0 || (flags & FD_CLOEXEC) != 0) continue; // closed meanwhile, or already ours
            if (fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0) marked++;
        }
        return marked;
    }

    public static bool IsCloseOnExec(int fd) => fcntl(fd, F_GETFD, 0) is var flags && flags >= 0 && (flags & FD_CLOEXEC) != 0;

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int cmd, int arg);
}
