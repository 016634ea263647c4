using System.Text.Json.Serialization;

namespace LabRunner.Journal;

/// <summary>
/// How to undo one thing a lab did, written to the journal before the thing is done. Records hold
/// resolved argv and paths only, so `labrunner clean` can replay them without the scenario.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(UndoCommand), "command")]
[JsonDerivedType(typeof(UndoRemoveContainer), "container")]
[JsonDerivedType(typeof(UndoUnlink), "unlink")]
[JsonDerivedType(typeof(UndoCni), "cni")]
public abstract record UndoRecord(string Summary)
{
    /// <summary>The object this undo removes (e.g. netns lr-ab12cd-n1), so that deleting it releases the undo.</summary>
    public ResourceRef? Resource { get; init; }
}

/// <summary>
/// Run <see cref="Argv"/>. An error containing one of <see cref="Tolerate"/> means the thing is already gone
/// (deleted with its namespace, say) and counts as done. <see cref="Verify"/> proves afterwards that it is gone.
/// </summary>
public sealed record UndoCommand(string Summary, string[] Argv, string[] Tolerate, Verification? Verify) : UndoRecord(Summary);

/// <summary>
/// Remove a container of this lab through its runtime. <see cref="Id"/> is known before the start (the runtime's
/// name, or for the process runtime the label in its environment), so a crash right after the start is covered.
/// </summary>
public sealed record UndoRemoveContainer(string Summary, string Runtime, string Id) : UndoRecord(Summary);

/// <summary>Remove a symlink, but only if it still points where this lab made it point.</summary>
public sealed record UndoUnlink(string Summary, string Path, string Target) : UndoRecord(Summary);

/// <summary>
/// CNI DEL of one attachment (<c>cni-add</c>), as libcni does it: each plugin of the network in reverse order
/// (<see cref="Calls"/>, already reversed), each given its config on standard input with <c>prevResult</c> set to the
/// cached result at <see cref="ResultPath"/> when there is one (a crash before it was written leaves none: DEL goes
/// without, as the spec allows). When the attachment is in a container, <see cref="NetnsPid"/> and
/// <see cref="NetnsPidStart"/> name its process: if that PID is now another process's, CNI_NETNS is given empty (the
/// plugins then release what they hold on the host without entering a namespace that is not the lab's). Afterwards no
/// host-local reservation (a file named as an address) may be left in <see cref="HostLocalDir"/>, nor the result.
/// </summary>
public sealed record UndoCni(string Summary, CniCall[] Calls, string ResultPath, string? HostLocalDir, string? NetnsPid, long? NetnsPidStart)
    : UndoRecord(Summary);

/// <summary>One plugin call: the whole argv (namespace wrapper, <c>env CNI_...=</c>, the plugin) and its config without prevResult.</summary>
public sealed record CniCall(string[] Argv, string Config);

public enum VerificationKind
{
    /// <summary>The command fails, prints nothing, or its namespace is gone.</summary>
    Absent,
    /// <summary>The first line of the output equals <see cref="Verification.Expected"/>, or the namespace is gone.</summary>
    FirstLineEquals,
    /// <summary>No file or link exists at <see cref="Verification.Expected"/> (Argv unused).</summary>
    PathAbsent,
}

public sealed record Verification(VerificationKind Kind, string[] Argv, string? Expected);

/// <summary>Errors that mean "the namespace this command wanted is gone", and with it everything in it.</summary>
public static class GoneErrors
{
    public static readonly string[] Namespace =
    [
        "Cannot open network namespace", // ip -n X / ip netns exec X
        "No such process",
        "cannot open /proc/", // nsenter -t PID after the process died
        "failed to open /proc/",
    ];

    public static readonly string[] Link = ["Cannot find device", "does not exist", "No such device"];
}
