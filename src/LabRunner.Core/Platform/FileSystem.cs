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

    /// <summary>
    /// Whether <paramref name="path"/> (symbolic links followed) is a regular file; false for a pipe (<c>/dev/stdin</c>,
    /// <c>&lt;(…)</c>'s <c>/dev/fd/N</c>), a device, a socket or a directory; null when it cannot be told (no such file).
    /// statx(2): its buffer's layout is the same on every architecture, unlike stat(2)'s.
    /// </summary>
    public static bool? IsRegularFile(string path)
    {
        const uint StatxType = 1;
        const int ModeOffset = 28; // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, u32 uid, u32 gid, u16 mode
        const int TypeMask = 0xF000, Regular = 0x8000;
        var buffer = new byte[256];
        if (statx(AtFdCwd, path, 0, StatxType, buffer) != 0) return null;
        return (BitConverter.ToUInt16(buffer, ModeOffset) & TypeMask) == Regular;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, string pathname, int flags, uint mask, byte[] statxbuf);

    [DllImport("libc", SetLastError = true)]
    private static extern int renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);
}
