using LabRunner.Platform;
using LabRunner.Runtimes;

namespace LabRunner.Tests.Integration;

/// <summary>Integration tests build real namespaces: they need root, and say so instead of failing obscurely.</summary>
public static class Root
{
    public static void Require() =>
        Assert.SkipUnless(Processes.IsRoot, "needs root: integration tests create network namespaces (run as root, e.g. in CI or a VM)");

    public static readonly TheoryData<string> Runtimes = [.. ContainerRuntimes.Names];

    /// <summary>
    /// Root, and the runtime's daemon answering. Locally a missing daemon skips with the fix; in CI (CI=true) it fails:
    /// CI provisions every runtime, so a missing one is a broken CI, not a reason to skip.
    /// </summary>
    public static void Require(string runtime)
    {
        Require();
        var socket = runtime switch
        {
            "containerd" => ContainerdRuntime.Socket,
            "docker" => DockerRuntime.Socket,
            _ => null,
        };
        if (socket is null || File.Exists(socket)) return;
        var why = $"the {runtime} runtime needs its daemon ({socket} is missing): start it, e.g. with vagrant/provision.sh";
        if (Environment.GetEnvironmentVariable("CI") is not null) Assert.Fail(why);
        Assert.Skip(why);
    }
}
