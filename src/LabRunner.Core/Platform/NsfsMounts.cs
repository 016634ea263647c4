namespace LabRunner.Platform;

/// <summary>An nsfs mount: where a namespace is bound (a named netns, a Docker sandbox), and which namespace (net:[inode]).</summary>
public sealed record NsfsMount(string MountPoint, string Root);

/// <summary>The nsfs mounts of our mount namespace, as /proc/self/mountinfo lists them (no process is started).</summary>
public static class NsfsMounts
{
    public static IReadOnlyList<NsfsMount> List() =>
        [.. File.ReadLines("/proc/self/mountinfo").Where(l => l.Contains(" - nsfs ")).Select(l => l.Split(' ')).Select(f => new NsfsMount(f[4], f[3]))];

    public static IReadOnlyList<string> MountPoints() => [.. List().Select(m => m.MountPoint)];
}
