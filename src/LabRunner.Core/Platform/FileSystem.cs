using System.Runtime.InteropServices;

namespace LabRunner.Platform;

/// <summary>File-system calls .NET does not offer.</summary>
public static class FileSystem
{
    private const int AtFdCwd = -100;
    private const uint RenameNoReplaceFlag = 1;
    private const int EEXIST = 17;
    private const int ENOTEMPTY = 39;
    private const int EINVAL = 22;

    /// <summary>
    /// Renames <paramref name="from"/> to <paramref name="to"/> atomically, failing if <paramref name="to"/> exists
    /// (renameat2 with RENAME_NOREPLACE: Directory.Move checks first and renames after, a race between two runs).
    /// </summary>
    /// <exception cref="IOException"><paramref name="to"/> exists, or the rename failed.</exception>
    public static void RenameNoReplace(string from, string to)
    {
        if (renameat2(AtFdCwd, from, AtFdCwd, to, RenameNoReplaceFlag) == 0) return;
        var errno = Marshal.GetLastPInvokeError();
        if (errno == EINVAL && !Path.Exists(to))
        {
            // A file system without RENAME_NOREPLACE: rename(2) onto a missing name is still atomic.
            Directory.Move(from, to);
            return;
        }
        throw new IOException(errno is EEXIST or ENOTEMPTY
            ? $"{to} already exists"
            : $"cannot rename {from} to {to}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);
}
