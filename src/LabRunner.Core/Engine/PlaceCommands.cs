using System.Globalization;
using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Runtimes;

namespace LabRunner.Engine;

/// <summary>
/// Runs a command in a place of the lab: through the runtime's exec in a container (argv[0] is a busybox applet
/// there), otherwise wrapped for the namespace (<see cref="NetTarget.Exec"/>). Used by the expectations and captures.
/// </summary>
internal sealed class PlaceCommands(LabSession session, ICommandRunner runner, IContainerRuntime runtime)
{
    public Task<CommandOutcome> RunAsync(Place place, string[] argv, CommandPurpose purpose, CancellationToken ct) =>
        place.Kind == PlaceKind.Container
            ? runtime.ExecAsync(session.Container(place.Name), argv, purpose, ct)
            : runner.RunAsync(session.Target(place).Exec(argv), purpose, ct);

    /// <summary>
    /// <c>ping -c COUNT [OPTIONS] -W 1 TO</c> from <paramref name="from"/>: busybox's ping everywhere, since it is in
    /// every container and on every host this tool installs.
    /// </summary>
    public Task<CommandOutcome> PingAsync(Place from, string to, int count, CommandPurpose purpose, CancellationToken ct, params string[] options) =>
        BusyboxAsync(from, ["ping", "-c", count.ToString(CultureInfo.InvariantCulture), .. options, "-W", "1", session.Expand(to)], purpose, ct);

    /// <summary>
    /// A busybox applet in a place: as <c>busybox APPLET …</c> outside containers, as the applet inside one (the runtime's
    /// exec runs busybox there); the same tools in every place, whatever the host has installed.
    /// </summary>
    public Task<CommandOutcome> BusyboxAsync(Place place, string[] applet, CommandPurpose purpose, CancellationToken ct) =>
        RunAsync(place, place.Kind == PlaceKind.Container ? applet : ["busybox", .. applet], purpose, ct);
}
