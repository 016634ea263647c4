using System.Formats.Tar;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The offline busybox image: its applets are what `busybox --list` says, asked through the runner the runtime has
/// (reported, and under its time limit). A recording runner answers; the busybox binary itself is read from PATH.
/// </summary>
public sealed class BusyboxImageSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_image_holds_a_link_for_each_applet_busybox_lists_through_the_runner()
    {
        Assert.SkipWhen(EnvironmentCheck.FindOnPath("busybox") is null, "busybox is not installed");
        var runner = new RecordingRunner(_ => RecordingRunner.Ok("busybox\nsh\nping\n/usr/bin/odd\n"));

        var rootfs = await BusyboxImage.RootfsTarAsync(runner, Ct);

        var command = Assert.Single(runner.Commands);
        Assert.Equal([EnvironmentCheck.FindOnPath("busybox")!, "--list"], command.Argv);
        Assert.Equal(CommandPurpose.Setup, command.Purpose);
        var links = new List<string>();
        using (var tar = new TarReader(new MemoryStream(rootfs)))
            while (tar.GetNextEntry() is { } entry)
                if (entry.EntryType == TarEntryType.SymbolicLink) links.Add(entry.Name);
        Assert.Equal(["bin/ping", "bin/sh"], links);
    }

    [Fact]
    public async Task A_busybox_that_cannot_list_its_applets_makes_no_image()
    {
        Assert.SkipWhen(EnvironmentCheck.FindOnPath("busybox") is null, "busybox is not installed");
        var runner = new RecordingRunner(_ => RecordingRunner.Failed(124, "timed out after 60s"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => BusyboxImage.GzippedRootfsAsync(runner, Ct));

        Assert.EndsWith("--list` failed: timed out after 60s", error.Message);
    }
}
