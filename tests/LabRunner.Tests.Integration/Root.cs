using LabRunner.Platform;

namespace LabRunner.Tests.Integration;

/// <summary>Integration tests build real namespaces: they need root, and say so instead of failing obscurely.</summary>
public static class Root
{
    public static void Require() =>
        Assert.SkipUnless(Processes.IsRoot, "needs root: integration tests create network namespaces (run as root, e.g. in CI or a VM)");
}
