using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Platform;
using LabRunner.Runtimes;
using Spectre.Console;

namespace LabRunner.Cli;

/// <summary>
/// `labrunner ls` (the runs of a state directory, from their journals) and `labrunner exec LAB PLACE -- CMD…` /
/// `labrunner shell LAB PLACE` (a command, or /bin/sh, in a place of a live lab: its network namespace, with the
/// machine's own tools).
/// </summary>
public static class LiveLabs
{
    public static int List(IAnsiConsole console, string stateDir, bool json)
    {
        var runs = LabRuns.List(stateDir);
        if (json)
        {
            Console.Out.WriteLine(Json(runs));
            return ExitCodes.Passed;
        }
        if (runs.Count == 0)
        {
            console.MarkupLine($"[grey]no runs in {Markup.Escape(stateDir)}: no lab is running, and nothing is left to clean[/]");
            return ExitCodes.Passed;
        }
        foreach (var line in Table(runs)) console.WriteLine(line);
        if (runs.Any(r => !r.Alive))
            console.MarkupLine($"[grey]dead runs left what they made: labrunner clean{(stateDir == Journal.LabJournal.DefaultRoot ? "" : $" --state-dir {Markup.Escape(stateDir)}")} ID removes it[/]");
        return ExitCodes.Passed;
    }

    /// <summary>The table `ls` prints: a header and a row per run, in aligned columns (plain text: it is read by scripts too).</summary>
    public static IReadOnlyList<string> Table(IReadOnlyList<RunInfo> runs)
    {
        string[] header = ["ID", "LAB", "OWNER", "STARTED", "STEP", "RUNTIME", "MODE"];
        var rows = runs.Select(r => new[]
        {
            r.Id + (r.Problems.Count > 0 ? " (damaged)" : ""),
            r.Lab,
            $"{(r.OwnerPid is { } pid ? pid.ToString(CultureInfo.InvariantCulture) : "?")} {(r.Alive ? "alive" : "dead")}",
            r.Header is { Started: var started } && started != DateTimeOffset.MinValue ? started.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "?",
            r.StepText,
            r.Runtime,
            r.Header is null ? "?" : r.Header.Sandbox ? "sandbox" : "host",
        }).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(i => rows.Select(row => row[i].Length).Append(header[i].Length).Max()).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
        return [Line(header), .. rows.Select(Line)];
    }

    /// <summary>`ls --format json`: an array, a run per element (documented in the README).</summary>
    public static string Json(IReadOnlyList<RunInfo> runs)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var r in runs)
            {
                w.WriteStartObject();
                w.WriteString("id", r.Id);
                w.WriteString("lab", r.Lab);
                w.WriteString("file", r.Header?.Scenario);
                if (r.OwnerPid is { } pid) w.WriteNumber("owner", pid);
                else w.WriteNull("owner");
                w.WriteBoolean("alive", r.Alive);
                if (r.Header is { Started: var started } && started != DateTimeOffset.MinValue) w.WriteString("started", started);
                else w.WriteNull("started");
                if (r.Step is { } step)
                {
                    w.WriteStartObject("step");
                    w.WriteString("number", step.Number);
                    w.WriteNumber("position", step.Position);
                    w.WriteNumber("count", step.Count);
                    w.WriteString("title", step.Title);
                    w.WriteEndObject();
                }
                else w.WriteNull("step");
                w.WriteString("runtime", r.Header?.Runtime ?? (r.Runtimes.Count > 0 ? r.Runtimes[0] : null));
                if (r.Header is { } h) w.WriteString("mode", h.Sandbox ? "sandbox" : "host");
                else w.WriteNull("mode");
                w.WriteStartArray("places");
                foreach (var p in r.Places) w.WriteStringValue(p.Name);
                w.WriteEndArray();
                w.WriteStartArray("problems");
                foreach (var p in r.Problems) w.WriteStringValue(p);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// Runs <paramref name="command"/> in the place, on this terminal (stdin, stdout and stderr are ours, so a shell is
    /// interactive), and returns its exit code. Ctrl-C reaches the command (the terminal's foreground group), not us.
    /// </summary>
    public static async Task<int> ExecAsync(string stateDir, string labName, string placeName, IReadOnlyList<string> command, bool interactive, CancellationToken ct)
    {
        var run = LabRuns.FindLive(stateDir, labName); // unknown, dead or ambiguous: exit 2, listing the runs
        var place = LabRuns.Place(run, placeName);
        if (!Processes.IsRoot)
            throw new EnvironmentProblemException($"entering a lab's namespace needs root (labrunner {(interactive ? "shell" : "exec")} runs nsenter or ip netns exec)", "run it with sudo");
        var runner = new CliWrapCommandRunner();
        var target = await LabRuns.TargetAsync(run, place, name => ContainerRuntimes.Create(name, runner), ct);
        var argv = target.Exec([.. command]);
        var start = new ProcessStartInfo(argv[0]) { UseShellExecute = false };
        foreach (var a in argv.Skip(1)) start.ArgumentList.Add(a);
        start.Environment["LABRUNNER_LAB"] = run.Id;
        start.Environment["LABRUNNER_PLACE"] = place.Name;
        if (interactive) start.Environment["PS1"] = $"[{run.Lab} {place.Name}] # ";
        // The terminal's Ctrl-C goes to the command (it is in our foreground group) and ends it; we wait for its exit
        // code. SIGTERM and SIGHUP are passed on to it.
        Process? child = null;
        void Pass(PosixSignalContext c)
        {
            c.Cancel = true;
            if (c.Signal != PosixSignal.SIGINT && child is { HasExited: false } p)
                Processes.Signal(p.Id, c.Signal == PosixSignal.SIGHUP ? Processes.SIGHUP : Processes.SIGTERM);
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Pass);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Pass);
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Pass);
        try
        {
            child = Process.Start(start) ?? throw new EnvironmentProblemException($"could not start {argv[0]}", "check that it is installed");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new EnvironmentProblemException($"could not start {argv[0]}: {e.Message}", $"install {argv[0]} (util-linux: nsenter; iproute2: ip)");
        }
        using (child)
        {
            await child.WaitForExitAsync(CancellationToken.None);
            return child.ExitCode;
        }
    }
}
