using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LabRunner.Tests.Integration;

/// <summary>
/// A network namespace of a test's own: a thread calls unshare(CLONE_NEWNET), opens its namespace (the descriptor
/// <see cref="Fd"/> holds it) and waits, so that its thread id <see cref="Tid"/> names the namespace for
/// IFLA_NET_NS_PID. Unnamed (nothing in /var/run/netns), it is gone once the descriptor is closed, the thread has
/// ended and no socket is left in it.
/// </summary>
internal sealed class PrivateNetns : IDisposable
{
    private const int CLONE_NEWNET = 0x40000000, O_RDONLY_CLOEXEC = 0x80000;

    private readonly ManualResetEventSlim _release;
    private readonly Thread _thread;

    private PrivateNetns(Thread thread, ManualResetEventSlim release, int fd, int tid, string inode)
    {
        _thread = thread;
        _release = release;
        Fd = fd;
        Tid = tid;
        Inode = inode;
    }

    public int Fd { get; }

    public int Tid { get; }

    /// <summary>net:[INODE].</summary>
    public string Inode { get; }

    /// <summary>What OpenIn opens: our descriptor of the namespace.</summary>
    public string Path => $"/proc/self/fd/{Fd}";

    private static readonly Lazy<bool> Creatable = new(() =>
    {
        try
        {
            using var probe = Create();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    });

    public static bool CanCreate => Creatable.Value;

    public static PrivateNetns Create()
    {
        var ready = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        int fd = -1, tid = 0, errno = 0;
        var thread = new Thread(() =>
        {
            if (unshare(CLONE_NEWNET) != 0)
            {
                errno = Marshal.GetLastPInvokeError();
                ready.Set();
                return;
            }
            fd = open("/proc/thread-self/ns/net", O_RDONLY_CLOEXEC);
            tid = gettid();
            ready.Set();
            release.Wait();
        })
        { IsBackground = true, Name = "private netns" };
        thread.Start();
        ready.Wait();
        if (fd < 0)
        {
            release.Set();
            throw new InvalidOperationException($"unshare(CLONE_NEWNET) failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        var inode = new FileInfo($"/proc/self/fd/{fd}").LinkTarget ?? "";
        var ns = new PrivateNetns(thread, release, fd, tid, inode);
        // Fail closed: never the namespace of this process or of PID 1.
        if (!inode.StartsWith("net:[", StringComparison.Ordinal) || inode == new FileInfo("/proc/self/ns/net").LinkTarget || inode == new FileInfo("/proc/1/ns/net").LinkTarget)
        {
            ns.Dispose();
            throw new InvalidOperationException($"the new namespace {inode} is not a private one");
        }
        return ns;
    }

    /// <summary>The thread <see cref="Tid"/> is still in this namespace (so IFLA_NET_NS_PID names it and no other).</summary>
    public void CheckTidIsInside() =>
        Assert.Equal(Inode, new FileInfo($"/proc/self/task/{Tid}/ns/net").LinkTarget);

    /// <summary>`ip ARGS` inside this namespace (nsenter --net=/proc/OURPID/fd/FD): its exit code, stdout and stderr.</summary>
    public (int ExitCode, string Stdout, string Stderr) Ip(params string[] args)
    {
        var start = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add($"--net=/proc/{Environment.ProcessId}/fd/{Fd}");
        start.ArgumentList.Add("--");
        start.ArgumentList.Add("ip");
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output.Result, error);
    }

    public void Dispose()
    {
        _release.Set();
        _thread.Join();
        _ = close(Fd);
    }

    [DllImport("libc", SetLastError = true)] private static extern int unshare(int flags);
    [DllImport("libc", SetLastError = true)] private static extern int open(string path, int flags);
    [DllImport("libc")] private static extern int gettid();
    [DllImport("libc")] private static extern int close(int fd);
}
