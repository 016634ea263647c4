using System.ComponentModel;
using System.Runtime.InteropServices;

namespace LabRunner.Platform;

/// <summary>
/// Starts a long-lived child (a process-runtime container) with exactly the descriptors it needs: stdin and stdout on
/// /dev/null, stderr into a file, nothing else. .NET's Process can only give a child pipes, and a container holding
/// our pipes (or anything else of ours) for minutes is what this avoids. posix_spawn, because it takes those
/// redirections as "file actions" and forks safely from a multithreaded process (glibc uses vfork+exec).
/// The child is ours to reap: .NET only reaps the children it started itself.
/// </summary>
public static class Spawn
{
    private const int O_RDONLY = 0, O_WRONLY = 1;
    private const int POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;
    private const int BufferSize = 1024; // posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336 on glibc/x86_64; room to spare

    /// <summary>
    /// Starts argv (searched on PATH) with the given environment, stdin/stdout /dev/null and stderr appended to
    /// <paramref name="stderrPath"/>, no other descriptor; returns its PID. Signals the runtime changed (SIGPIPE ignored, handlers) are back
    /// to their defaults and none is blocked, as after .NET's own fork.
    /// </summary>
    public static int Start(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> environment, string stderrPath)
    {
        var actions = Zeroed();
        var attributes = Zeroed();
        var sigset = Zeroed();
        var strings = new List<nint>();
        nint Utf8(string s)
        {
            var p = Marshal.StringToCoTaskMemUTF8(s);
            strings.Add(p);
            return p;
        }
        try
        {
            Check(posix_spawn_file_actions_init(actions));
            Check(posix_spawn_file_actions_addopen(actions, 0, Utf8("/dev/null"), O_RDONLY, 0));
            Check(posix_spawn_file_actions_addopen(actions, 1, Utf8("/dev/null"), O_WRONLY, 0));
            Check(posix_spawn_file_actions_addopen(actions, 2, Utf8(stderrPath), O_WRONLY | 0x40 /* O_CREAT */ | 0x400 /* O_APPEND */, 0x180 /* 0600 */));
            try
            {
                // Nothing else of ours, even a descriptor someone forgot to mark close-on-exec (glibc 2.34+).
                Check(posix_spawn_file_actions_addclosefrom_np(actions, 3));
            }
            catch (EntryPointNotFoundException)
            {
                // an older glibc: Descriptors.CloseInheritedOnExec has marked what we inherited
            }
            Check(posix_spawnattr_init(attributes));
            Check(sigfillset(sigset));
            Check(posix_spawnattr_setsigdefault(attributes, sigset));
            Check(sigemptyset(sigset));
            Check(posix_spawnattr_setsigmask(attributes, sigset));
            Check(posix_spawnattr_setflags(attributes, (short)(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)));

            var args = new nint[argv.Count + 1];
            for (var i = 0; i < argv.Count; i++) args[i] = Utf8(argv[i]);
            var env = new List<nint>();
            foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
                if (!environment.ContainsKey((string)e.Key)) env.Add(Utf8($"{e.Key}={e.Value}"));
            foreach (var (name, value) in environment) env.Add(Utf8($"{name}={value}"));
            env.Add(0);
            var envp = env.ToArray();

            var error = posix_spawnp(out var pid, args[0], actions, attributes, args, envp);
            if (error != 0) throw new Win32Exception(error, $"{argv[0]}: {new Win32Exception(error).Message}");
            Ours.TryAdd(pid, 0);
            return pid;
        }
        finally
        {
            posix_spawn_file_actions_destroy(actions);
            posix_spawnattr_destroy(attributes);
            Marshal.FreeHGlobal(actions);
            Marshal.FreeHGlobal(attributes);
            Marshal.FreeHGlobal(sigset);
            foreach (var p in strings) Marshal.FreeCoTaskMem(p);
        }
    }

    /// <summary>
    /// The children <see cref="Start"/> made and nobody has reaped yet. Only these are ours to reap: a child .NET started
    /// (a capture's tcpdump, a lab's server, through CliWrap) is reaped by the runtime's own SIGCHLD handling, which
    /// kills the process (FailFast: "Error while reaping child. errno = 10") when we reap it first.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte> Ours = new();

    /// <summary>
    /// Collects a child <see cref="Start"/> made that has ended (so it does not stay a zombie); false if it still runs,
    /// or is not such a child (another process's, or one .NET started and reaps itself).
    /// </summary>
    public static bool Reap(int pid, out int exitCode)
    {
        exitCode = 0;
        if (!Ours.ContainsKey(pid)) return false;
        if (waitpid(pid, out var status, 1 /* WNOHANG */) != pid) return false;
        Ours.TryRemove(pid, out _);
        // Exited: its code; killed by a signal: 128 + the signal, as a shell reports it.
        exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
        return true;
    }

    private static nint Zeroed()
    {
        var p = Marshal.AllocHGlobal(BufferSize);
        Marshal.Copy(new byte[BufferSize], 0, p, BufferSize);
        return p;
    }

    private static void Check(int result)
    {
        if (result != 0) throw new Win32Exception(result);
    }

    [DllImport("libc")] private static extern int posix_spawnp(out int pid, nint file, nint actions, nint attributes, nint[] argv, nint[] envp);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_init(nint actions);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_destroy(nint actions);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_addopen(nint actions, int fd, nint path, int flags, int mode);
    [DllImport("libc")] private static extern int posix_spawn_file_actions_addclosefrom_np(nint actions, int from);
    [DllImport("libc")] private static extern int posix_spawnattr_init(nint attributes);
    [DllImport("libc")] private static extern int posix_spawnattr_destroy(nint attributes);
    [DllImport("libc")] private static extern int posix_spawnattr_setflags(nint attributes, short flags);
    [DllImport("libc")] private static extern int posix_spawnattr_setsigdefault(nint attributes, nint sigset);
    [DllImport("libc")] private static extern int posix_spawnattr_setsigmask(nint attributes, nint sigset);
    [DllImport("libc")] private static extern int sigfillset(nint set);
    [DllImport("libc")] private static extern int sigemptyset(nint set);
    [DllImport("libc", SetLastError = true)] private static extern int waitpid(int pid, out int status, int options);
}
