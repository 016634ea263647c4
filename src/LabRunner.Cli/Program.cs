using System.CommandLine;
using System.Text.Json;
using System.Runtime.InteropServices;
using LabRunner.Cli.Output;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.MultiHost;
using LabRunner.Platform;
using LabRunner.Reporting;
using LabRunner.Runtimes;
using LabRunner.Scripting;
using Spectre.Console;

namespace LabRunner.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Descriptors our caller left open (a `flock FILE labrunner …`) are not for our children, containers included.
        Descriptors.CloseInheritedOnExec();
        var console = new GuardedConsole(AnsiConsole.Console);
        // Logs and CI output must not be wrapped at 80 columns: long commands stay on one line.
        if (Console.IsOutputRedirected) console.Profile.Width = 100_000;
        var root = CreateRoot(console);
        // A bare `labrunner` is someone finding their way: the help, not an error.
        var parsed = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parsed.Errors.Count > 0)
        {
            // `run --format json --bogus`: a tool reading the events gets its one error line too.
            // `part` speaks only JSON: its controller reads the error as it reads any end.
            var command = parsed.CommandResult.Command.Name;
            var events = command == "part" || command is "run" or "replay" && AsksForJson(args) ? new JsonEventStream(Console.OpenStandardOutput()) : null;
            var code = new Problem(string.Join(Environment.NewLine, parsed.Errors.Select(e => $"error: {e.Message}")), "run 'labrunner --help' for usage",
                ExitCodes.InvalidInput).Tell(events);
            events?.End(code);
            return code;
        }
        // Signals are ours: SIGINT/SIGTERM/SIGHUP cancel the run, which then tears down and exits 130/143/129.
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    /// <summary>Whether the command line says <c>--format json</c> (read from the words: the parse failed).</summary>
    private static bool AsksForJson(string[] args) =>
        args.Where((a, i) => a is "--format=json" or "--format:json" || (a == "--format" && i + 1 < args.Length && args[i + 1] == "json")).Any();

    /// <summary>The `labrunner` command tree: every command, its options and what it does (also what completion is made from).</summary>
    public static RootCommand CreateRoot(GuardedConsole console)
    {
        var file = new Argument<string>("file") { Description = "the lab (.yaml or .yml; .csx for a C# lab; - or a pipe: YAML from it)" };
        file.Validators.Add(NotAnOption);
        var host = new Option<bool>("--host") { Description = "run in this namespace instead of a sandbox namespace (dedicated VMs only)" };
        var uplink = new Option<string?>("--uplink") { Description = "with --host: the interface that plays the article's ens3 (default: the scenario's)" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "also show the commands of checks and teardown" };
        var step = new Option<bool>("--step", "--pause")
        {
            Description = "pause before each step (workshops): Enter runs it, c continues without pausing, s shows the state of every place, q tears down and quits",
        };
        var until = new Option<string?>("--until")
        {
            HelpName = "STEP",
            Description = "run up to and including STEP, then tear down (the lab's own step number, e.g. 3.4, or its position, e.g. 17 or #17)",
        };
        var from = new Option<string?>("--from")
        {
            HelpName = "STEP",
            Description = "show the lab from STEP on: the steps before it run without pauses, one line each",
        };
        var runtimeOption = new Option<string?>("--runtime") { Description = "container runtime: process (built in, the default), containerd or docker" };
        runtimeOption.AcceptOnlyFromAmong([.. ContainerRuntimes.Names]);
        var driverOption = new Option<string?>("--driver")
        {
            Description = $"how ip commands run: netlink (in-process over rtnetlink, no process forked; the forms it does not know still run ip) or " +
                          $"iproute2 (every one forked); default ${CommandDrivers.EnvironmentVariable}, else {CommandDrivers.Default}. Reports show the same ip commands either way",
        };
        driverOption.AcceptOnlyFromAmong([.. CommandDrivers.Names]);
        var stateDir = new Option<string>("--state-dir") { Description = "where run journals live", DefaultValueFactory = _ => LabJournal.DefaultRoot };
        var junit = new Option<string?>("--junit") { Description = "also write the run as JUnit XML to this file (a test case per step, for CI servers)" };
        var transcript = new Option<string?>("--transcript") { Description = "also write the run as a Markdown transcript to this file (commands, checks, diagnosis)" };
        var htmlReport = new Option<string?>("--report")
        {
            Description = "also write the run as one self-contained HTML page to this file (steps, commands, checks, why-lines, " +
                          "the topology the kernel held after each step drawn by Graphviz; nothing fetched from the network)",
        };
        var bundle = new Option<string?>("--bundle") { Description = "also write a bug-report bundle (.tar.gz: scenario, transcript, commands, versions, replay.sh) to this file" };
        var scriptTimeout = new Option<double>("--script-timeout")
        {
            Description = "how long a C# lab (.csx) may run to build its lab, in seconds (a loop or recursion without end is then exit 2)",
            DefaultValueFactory = _ => LabScript.DefaultTimeout.TotalSeconds,
        };
        scriptTimeout.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is not (> 0 and <= 86400))
                r.AddError("--script-timeout must be a number of seconds above 0 (and at most 86400), e.g. --script-timeout 60");
        });
        TimeSpan ScriptTimeout(ParseResult r) => TimeSpan.FromSeconds(r.GetValue(scriptTimeout));
        var runFormat = new Option<string>("--format")
        {
            Description = "text (the console, the default) or json: the run's events on stdout, one JSON object a line (NDJSON, docs/EVENTS.md); " +
                          "the console's text then goes to stderr",
            DefaultValueFactory = _ => "text",
        };
        runFormat.AcceptOnlyFromAmong("text", "json");

        var inventoryOption = new Option<string?>("--inventory")
        {
            Description = "a lab across hosts (hosts:): where each host is (ssh destination, uplink, address), docs/MULTI-HOST.md; " +
                          "scripts/ssh-testbed.sh up N writes one for N hosts on this machine",
        };

        RunSettings Settings(ParseResult r, string? runtime) =>
            new(r.GetValue(host), r.GetValue(uplink), runtime, r.GetValue(verbose), r.GetValue(step), r.GetValue(stateDir)!)
            {
                JUnit = r.GetValue(junit), Transcript = r.GetValue(transcript), Report = r.GetValue(htmlReport), Bundle = r.GetValue(bundle),
                ScriptTimeout = ScriptTimeout(r), From = r.GetValue(from), Until = r.GetValue(until), Driver = r.GetValue(driverOption),
                Inventory = r.GetValue(inventoryOption), Format = r.GetValue(runFormat) ?? "text",
            };

        var run = new Command("run", "Run a lab: build each step, check its expectations, always tear down.\n" +
                                     "Exit codes: 0 all held (with --until: every step run held), 1 an expectation failed, 2 invalid scenario or usage, " +
                                     "3 environment problem, 4 teardown left something, 130/143/129 interrupted")
            { file, host, uplink, runtimeOption, driverOption, verbose, step, until, from, stateDir, junit, transcript, htmlReport, bundle, scriptTimeout, runFormat, inventoryOption };
        run.SetAction(Streaming(console, runFormat, (r, output, events) => RunAsync(output, r.GetValue(file)!, Settings(r, r.GetValue(runtimeOption)), dryRun: false, events)));

        var bundleFile = new Argument<string>("bundle") { Description = "a bundle written by 'labrunner run --bundle FILE'" };
        bundleFile.Validators.Add(NotAnOption);
        var replayPlan = new Option<bool>("--plan") { Description = "show every command the replay would run, as 'labrunner plan' does; touches nothing (read it before replaying someone else's bundle: a replay runs its commands as root)" };
        var replay = new Command("replay", "Run the lab of a bug-report bundle again, with the runtime it was run with, after checking every file's SHA-256.\n" +
                                           "--host and --uplink apply only when given here. A replay runs the bundle's commands as root: read 'replay --plan BUNDLE' first")
            { bundleFile, replayPlan, host, uplink, driverOption, verbose, step, until, from, stateDir, junit, transcript, htmlReport, bundle, scriptTimeout, runFormat };
        replay.SetAction(Streaming(console, runFormat, (r, output, events) => ReplayAsync(output, r.GetValue(bundleFile)!, Settings(r, null), r.GetValue(replayPlan), events)));

        var labId = new Option<string>("--lab-id")
        {
            Required = true,
            HelpName = "ID",
            Description = "the part's lab id, in its journal and names (the controller's: lab id-host, e.g. 3f9a1c-a): 1 to 32 of a-z, 0-9 and '-'",
        };
        labId.Validators.Add(r =>
        {
            if (PartProtocol.CheckLabId(r.GetValueOrDefault<string>()) is { } why) r.AddError(why);
        });
        var sandbox = new Option<bool>("--sandbox") { Description = "run the part in a sandbox namespace instead of this host's own (tests; a part runs as with run --host by default)" };
        var part = new Command("part", "Run one host's part of a multi-host lab for a controller (labrunner run --inventory): as run --host --format json, " +
                                       "the lab file read from standard input (line 1, base64 of its YAML), then before each step and before each step's " +
                                       "expectations an 'awaiting' event and a wait for the controller's line: go, or quit. The end of input tears down (exit 129).\n" +
                                       "Exit codes: as run; 2 also for a line that is not go or quit (after the teardown)")
            { labId, runtimeOption, driverOption, uplink, stateDir, sandbox, verbose };
        part.SetAction(Streaming(console, _ => true, (r, output, events) => PartAsync(output,
            new RunSettings(!r.GetValue(sandbox), r.GetValue(uplink), r.GetValue(runtimeOption), r.GetValue(verbose), false, r.GetValue(stateDir)!)
                { Driver = r.GetValue(driverOption), LabId = r.GetValue(labId) }, events!)));

        var validate = new Command("validate", "Check a lab file without touching anything (exit 2 with file:line:col when invalid)") { file, scriptTimeout };
        validate.SetAction(Telling((r, ct) => ValidateAsync(console, r.GetValue(file)!, ScriptTimeout(r), ct)));

        var plan = new Command("plan", "Show every command a run would execute, teardown included; touches nothing") { file, host, uplink, runtimeOption, scriptTimeout, inventoryOption };
        plan.SetAction(Telling((r, ct) => RunAsync(console, r.GetValue(file)!, new RunSettings(r.GetValue(host), r.GetValue(uplink), r.GetValue(runtimeOption), false, false, LabJournal.DefaultRoot)
            { ScriptTimeout = ScriptTimeout(r), Inventory = r.GetValue(inventoryOption) }, dryRun: true)));

        var afterStep = new Option<string?>("--after-step")
        {
            HelpName = "STEP",
            Description = "draw the lab as it is after STEP (the lab's own step number, e.g. 3.4, or its position, e.g. 17 or #17; default: the last step)",
        };
        var graphFormat = new Option<string>("--format")
        {
            Description = "mermaid (a Mermaid flowchart, the default), dot (Graphviz DOT text) or svg (drawn by Graphviz's dot: apt-get install graphviz)",
            DefaultValueFactory = _ => "mermaid",
        };
        graphFormat.AcceptOnlyFromAmong("mermaid", "dot", "svg");
        var graph = new Command("graph", "Draw the lab's topology (namespaces, links, veth pairs, bridge ports, addresses) from the lab file, " +
                                         "as Mermaid, Graphviz DOT or SVG; touches nothing (a run's --report draws what the kernel holds after each step)")
            { file, afterStep, graphFormat, scriptTimeout };
        graph.SetAction(Telling((r, ct) => GraphAsync(r.GetValue(file)!, r.GetValue(afterStep), r.GetValue(graphFormat)!, ScriptTimeout(r), ct)));

        var seedRuntime = new Option<string>("--runtime") { Description = "containerd or docker", DefaultValueFactory = _ => "containerd" };
        seedRuntime.AcceptOnlyFromAmong([.. ContainerRuntimes.Names.Where(n => n != "process")]);
        var seed = new Command("seed", $"Build {BusyboxImage.Reference} from Debian's busybox-static and import it (no registry needed)") { seedRuntime };
        seed.SetAction(Telling((r, ct) => SeedAsync(console, r.GetValue(seedRuntime)!, ct)));
        var image = new Command("image", "Manage the offline busybox image") { seed };

        var ids = new Argument<string[]>("ids") { Description = "only these runs (their ids, as labrunner ls shows them); default: every dead run", Arity = ArgumentArity.ZeroOrMore };
        var clean = new Command("clean", "Tear down what runs that died (kill -9, crash) left behind, from their journals. A live run's id is refused (exit 2)")
            { ids, verbose, stateDir };
        var hostsOption = new Option<bool>("--hosts") { Description = "clean every host of the --inventory (a lab across hosts): `clean --hosts [ID] --inventory FILE`, each host with its own labrunner over ssh" };
        clean.Options.Add(hostsOption);
        clean.Options.Add(inventoryOption);
        clean.SetAction(Telling((r, ct) => r.GetValue(hostsOption) || r.GetValue(inventoryOption) is not null
            ? CleanHostsAsync(console, r.GetValue(hostsOption), r.GetValue(inventoryOption), r.GetValue(ids) ?? [], ct)
            : CleanAsync(console, r.GetValue(verbose), r.GetValue(stateDir)!, r.GetValue(ids) ?? [])));

        var format = new Option<string>("--format") { Description = "table (default) or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var ls = new Command("ls", "List the runs with a journal: live labs, and dead ones not cleaned yet (id, lab, owner, started, current step, runtime); touches nothing")
            { format, stateDir };
        ls.SetAction(Telling((r, _) => Task.FromResult(LiveLabs.List(console, r.GetValue(stateDir)!, r.GetValue(format) == "json"))));

        var lab = new Argument<string>("lab") { Description = "a live run: its id, its lab's name or its lab file's name (labrunner ls lists them)" };
        var place = new Argument<string>("place") { Description = "a place of the lab: host, a namespace (n1) or a container (busybox-1)" };
        var commandLine = new Argument<string[]>("command") { Description = "the command to run there, after --", Arity = ArgumentArity.OneOrMore };
        var exec = new Command("exec", "Run a command in a place of a live lab (its network namespace; the machine's own tools), e.g. exec article busybox-1 -- ip -br addr.\n" +
                                       "Exit code: the command's; 2 no such run or place, 3 not root")
            { lab, place, commandLine, stateDir };
        exec.SetAction(Telling((r, ct) => LiveLabs.ExecAsync(r.GetValue(stateDir)!, r.GetValue(lab)!, r.GetValue(place)!, r.GetValue(commandLine)!, interactive: false, ct)));
        var shell = new Command("shell", "Open a shell (/bin/sh) in a place of a live lab, e.g. while it pauses (run --step); exit leaves it") { lab, place, stateDir };
        shell.SetAction(Telling((r, ct) => LiveLabs.ExecAsync(r.GetValue(stateDir)!, r.GetValue(lab)!, r.GetValue(place)!, ["/bin/sh"], interactive: true, ct)));

        var schema = new Command("schema", "Print the JSON Schema of a YAML lab file, made from the kinds' fields (for editors: yaml-language-server, VS Code)");
        schema.SetAction(Telling((_, _) =>
        {
            Console.Out.Write(Kinds.LabSchema.Json());
            return Task.FromResult(ExitCodes.Passed);
        }));

        var root = new RootCommand("labrunner: step-by-step Linux container-networking labs, asserted and always torn down")
            { run, part, validate, plan, graph, ls, exec, shell, clean, image, replay, schema };

        var shellName = new Argument<string>("shell") { Description = "bash" };
        shellName.AcceptOnlyFromAmong("bash");
        var completion = new Command("completion", "Print a completion script: source <(labrunner completion bash), or save it in /etc/bash_completion.d/labrunner")
            { shellName };
        completion.SetAction(Telling((_, _) =>
        {
            Console.Out.Write(BashCompletion.Script(root));
            return Task.FromResult(ExitCodes.Passed);
        }));
        root.Add(completion);
        return root;
    }

    /// <summary>
    /// Every command runs through this: what it throws that means something to the user (<see cref="Problem.Of"/>: an
    /// invalid scenario, a --host clash, an environment problem, a read or write that failed) is told on standard error
    /// with its exit code. Anything else is a bug, left to System.CommandLine's handler (exit 1, with the stack trace).
    /// </summary>
    private static Func<ParseResult, CancellationToken, Task<int>> Telling(Func<ParseResult, CancellationToken, Task<int>> command) =>
        async (r, ct) =>
        {
            try
            {
                return await command(r, ct);
            }
            catch (Exception e) when (Problem.Of(e) is { } problem)
            {
                return problem.Tell();
            }
        };

    /// <summary>
    /// `run` and `replay`, told as <see cref="Telling"/> does, and with <c>--format json</c> their events on standard output
    /// (<see cref="JsonEventStream"/>, NDJSON) and the console's text on standard error. Whatever happens, the stream's
    /// last line is its end: <c>result</c> with the exit code once the lab started, <c>error</c> otherwise (what is told
    /// on standard error is in it too).
    /// </summary>
    private static Func<ParseResult, CancellationToken, Task<int>> Streaming(GuardedConsole console, Option<string> format,
        Func<ParseResult, GuardedConsole, JsonEventStream?, Task<int>> command) =>
        Streaming(console, r => r.GetValue(format) == "json", command);

    private static Func<ParseResult, CancellationToken, Task<int>> Streaming(GuardedConsole console, Func<ParseResult, bool> json,
        Func<ParseResult, GuardedConsole, JsonEventStream?, Task<int>> command) =>
        async (r, ct) =>
        {
            if (!json(r)) return await Telling((rr, _) => command(rr, console, null))(r, ct);
            // Standard output is the tools': the person's text goes to standard error, a terminal there or not.
            var text = new GuardedConsole(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }), terminal: !Console.IsErrorRedirected);
            if (Console.IsErrorRedirected) text.Profile.Width = 100_000;
            var stdout = Console.OpenStandardOutput(); // unbuffered: each line is written and flushed as it comes
            var events = new JsonEventStream(stdout);
            int code;
            try
            {
                code = await command(r, text, events);
            }
            catch (Exception e) when (Problem.Of(e) is { } problem)
            {
                code = problem.Tell(events);
            }
            catch (Exception e)
            {
                // A bug: System.CommandLine shows it (exit 1); the stream still ends.
                events.End(1, $"error: {e.Message}");
                throw;
            }
            events.End(code);
            return code;
        };

    /// <summary>
    /// A file argument that looks like an option and is no file is an option nobody knows (`run --bogus`), not a lab
    /// called "--bogus": say so, as for any unknown option.
    /// </summary>
    private static void NotAnOption(System.CommandLine.Parsing.ArgumentResult r)
    {
        if (r.Tokens.Count == 1 && r.Tokens[0].Value is { } value && value.StartsWith('-') && value != StandardInput && !File.Exists(value))
            r.AddError($"unknown option '{value}' (a file whose name starts with '-' is given as ./{value})");
    }

    /// <summary>The lab file argument that means standard input (read as YAML, like any pipe).</summary>
    private const string StandardInput = "-";

    private sealed record RunSettings(bool Host, string? Uplink, string? Runtime, bool Verbose, bool Stepping, string StateDir)
    {
        /// <summary>--inventory FILE: where the hosts of a lab across hosts are.</summary>
        public string? Inventory { get; init; }

        /// <summary>--format: text or json.</summary>
        public string Format { get; init; } = "text";

        /// <summary>--from STEP: the first step shown in full (and paused before, with --step).</summary>
        public string? From { get; init; }

        /// <summary>--until STEP: the last step run.</summary>
        public string? Until { get; init; }

        public string? JUnit { get; init; }

        public string? Transcript { get; init; }

        /// <summary>The HTML report's path (--report).</summary>
        public string? Report { get; init; }

        public string? Bundle { get; init; }

        public TimeSpan ScriptTimeout { get; init; } = LabScript.DefaultTimeout;

        /// <summary>--driver: netlink or iproute2; null: $LABRUNNER_DRIVER, else the default.</summary>
        public string? Driver { get; init; }

        /// <summary>part's --lab-id: the run's fixed id; null: a random one.</summary>
        public string? LabId { get; init; }
    }

    private static async Task<int> ValidateAsync(IAnsiConsole console, string path, TimeSpan scriptTimeout, CancellationToken ct)
    {
        var scenario = Load(path, scriptTimeout);
        // libpcap is the judge of a pcap filter (and so on for every check that needs a tool); without the tool they are made before a run.
        var (bad, missing) = await LabPreflight.CheckAsync(scenario, new CliWrapCommandRunner(), ct);
        foreach (var tool in missing)
            console.MarkupLine($"[yellow]note[/]: {Markup.Escape(tool.Name)} is not installed, so the checks that need it (e.g. compiling capture filters) were not made (they will be before a run)");
        if (bad.Length > 0) throw new ScenarioInvalidException(bad);
        WarnIfCrowded(console, scenario);
        console.MarkupLine($"[green]valid[/]: {Markup.Escape(LabPath(path))}: lab {Markup.Escape(scenario.Name)}, {scenario.Steps.Length} steps, " +
                           $"{scenario.AllActions.Count()} actions, {scenario.Steps.Sum(s => s.Expectations.Length)} expectations");
        return ExitCodes.Passed;
    }

    /// <summary>`validate` and `run`: a lab whose traffic needs more neighbour entries than this machine allows is warned.</summary>
    private static void WarnIfCrowded(IAnsiConsole console, Scenario scenario)
    {
        if (NeighbourBudget.Warning(scenario, NeighbourBudget.ReadLimit()) is { } crowded)
            console.MarkupLine($"[yellow]warning[/]: {Markup.Escape(crowded)}");
    }

    private static async Task<int> GraphAsync(string path, string? afterStep, string format, TimeSpan scriptTimeout, CancellationToken ct)
    {
        var scenario = Load(path, scriptTimeout);
        // The same STEP as --until: the lab's own number or a position (an unknown one is exit 2, listing the steps).
        int? steps = afterStep is null ? null : StepSelector.Find(scenario, afterStep, "--after-step") + 1;
        var topology = LabTopology.Of(scenario, steps);
        Console.Out.Write(format switch
        {
            "dot" => topology.ToDot(),
            // No dot installed is an environment problem (exit 3, with the fix), told by Telling.
            "svg" => await Graphviz.RenderSvgAsync(topology.ToDot(), new CliWrapCommandRunner(), ct: ct),
            _ => topology.ToMermaid(),
        });
        return ExitCodes.Passed;
    }

    /// <summary>
    /// .yaml/.yml: the YAML loader; .csx: a C# script (LabRunner.Scripting), under its timeout, compiled once per
    /// version (ScriptCache); any other extension is refused; "-", or a pipe, is read as YAML. Throws ScenarioInvalidException.
    /// </summary>
    private static Scenario Load(string path, TimeSpan scriptTimeout) => LabFiles.Load(LabPath(path), scriptTimeout, ScriptCache.FromEnvironment());

    private static string LabPath(string path) => path == StandardInput ? "/dev/stdin" : path;

    /// <summary>
    /// A lab across hosts (<c>hosts:</c>, <c>--inventory</c>): this process is the controller (<see cref="MultiHostRun"/>);
    /// each host runs its part with its own labrunner over ssh. Options of a one-host run that it does not have yet are
    /// refused (exit 2) rather than ignored.
    /// </summary>
    private static async Task<int> RunAcrossHostsAsync(GuardedConsole console, string path, Scenario scenario, RunSettings settings, bool dryRun, JsonEventStream? events)
    {
        if (scenario.Hosts.IsEmpty)
            return Problem.Usage($"--inventory is for a lab across hosts, and {path} has no 'hosts:'", "run it without --inventory, or declare its hosts (docs/MULTI-HOST.md)").Tell(events);
        var unsupported = new (bool Given, string Option)[]
        {
            (settings.Host, "--host"), (settings.Stepping, "--step"), (settings.From is not null, "--from"), (settings.Until is not null, "--until"),
            (settings.JUnit is not null, "--junit"), (settings.Transcript is not null, "--transcript"), (settings.Report is not null, "--report"),
            (settings.Bundle is not null, "--bundle"), (settings.Format == "json" || events is not null, "--format json"), (settings.Uplink is not null, "--uplink"),
        }.Where(u => u.Given).Select(u => u.Option).ToList();
        if (unsupported.Count > 0)
            return Problem.Usage($"{string.Join(", ", unsupported)}: not available for a lab across hosts yet", "run it without; each host's uplink comes from the inventory").Tell(events);
        if (dryRun) return await PlanAcrossHostsAsync(console, path, scenario, settings);
        if (settings.Inventory is null)
            return Problem.Usage($"lab {scenario.Name} runs across hosts ({string.Join(", ", scenario.Hosts)}): say where they are with --inventory FILE",
                "docs/MULTI-HOST.md; `scripts/ssh-testbed.sh up 2` makes 2 hosts on this machine and prints its inventory").Tell(events);
        var inventory = Inventory.LoadFile(settings.Inventory);
        var hosts = inventory.For(scenario);
        // The lab again, with the inventory's host addresses and uplinks written in, checked as a whole (each host's part
        // with its own uplink) before any host is touched. A host the inventory gives no uplink keeps the lab's.
        var (text, uplinks) = HostParts.WithInventory(File.ReadAllText(path), path, scenario, hosts);
        scenario = ScenarioLoader.Load(text, path, uplinks);
        if (!Processes.IsRoot) return Problem.Environment("labrunner run needs root (each host's part runs as root over ssh, and this machine's ssh keys are root's)").Tell(events);

        using var cts = new CancellationTokenSource();
        int? interruptedWith = null; // the exit code of the first signal: 130, 143 or 129, as a one-host run's
        var registrations = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }.Select(signal =>
            PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // every host's part is told (end of input) and tears down; we wait for them
                interruptedWith ??= context.Signal switch { PosixSignal.SIGINT => 130, PosixSignal.SIGTERM => 143, _ => 129 };
                if (context.Signal == PosixSignal.SIGHUP) console.Detach();
                console.MarkupLine($"[yellow]{context.Signal}: ending the lab on every host[/]");
                cts.Cancel();
            })).ToList();
        try
        {
            var code = await new MultiHostRun(scenario, text, inventory, new ConsoleLines(console),
                new MultiHostOptions { Runtime = settings.Runtime, Driver = settings.Driver, Verbose = settings.Verbose }).RunAsync(cts.Token);
            // Interrupted: the signal's code, unless something was left behind (4 says more).
            return interruptedWith is { } signalled && code != ExitCodes.LeftBehind ? signalled : code;
        }
        finally
        {
            registrations.ForEach(r => r.Dispose());
        }
    }

    /// <summary><c>clean --hosts [ID] --inventory FILE</c>: <see cref="HostsCleaner"/>.</summary>
    private static async Task<int> CleanHostsAsync(GuardedConsole console, bool hosts, string? inventoryFile, string[] ids, CancellationToken ct)
    {
        if (!hosts || inventoryFile is null)
            return Problem.Usage("cleaning the hosts of a lab across hosts takes both --hosts and --inventory FILE", "labrunner clean --hosts [ID] --inventory FILE").Tell();
        if (ids.Length > 1)
            return Problem.Usage("clean --hosts takes one lab id (as the controller printed it: 'id 3f9a1c'), or none for every dead run on every host").Tell();
        if (ids.Length == 1 && !System.Text.RegularExpressions.Regex.IsMatch(ids[0], "^[a-z0-9]{1,16}$"))
            return Problem.Usage($"'{ids[0]}' is not a lab id: the controller prints it ('id 3f9a1c'); each host's part is ID-HOST").Tell();
        var inventory = Inventory.LoadFile(inventoryFile);
        return await new HostsCleaner(inventory, new ConsoleLines(console)).CleanAsync(ids.Length == 1 ? ids[0] : null, ct);
    }

    /// <summary>
    /// `plan` of a lab across hosts: each host's part as that host runs it (`labrunner part` runs it in the host's own
    /// namespace, as --host), with the inventory's addresses and uplinks when one is given, else with stand-ins
    /// (192.0.2.x, the lab's uplink). Nothing is reached: no ssh, no root.
    /// </summary>
    private static async Task<int> PlanAcrossHostsAsync(GuardedConsole console, string path, Scenario scenario, RunSettings settings)
    {
        IReadOnlyList<InventoryHost>? hosts = settings.Inventory is null ? null : Inventory.LoadFile(settings.Inventory).For(scenario);
        var (text, uplinks) = HostParts.WithInventory(File.ReadAllText(path), path, scenario, hosts);
        foreach (var host in scenario.Hosts)
        {
            var where = hosts?.FirstOrDefault(h => h.Name == host) is { } h ? $"ssh {h.Ssh}" : $"no --inventory: a stand-in address, {HostParts.StandInAddress(scenario, host)}";
            console.MarkupLine($"[bold]Host {Markup.Escape(host)}[/] ({Markup.Escape(where)}): its part, as `labrunner part` runs it there, in the host's own namespace");
            var part = ScenarioLoader.Load(HostParts.PartText(text, host, uplinks.GetValueOrDefault(host)), path);
            var code = await RunScenarioAsync(console, part, path, settings with { Host = true, Inventory = null }, dryRun: true, events: null);
            if (code != ExitCodes.Passed) return code;
            console.WriteLine();
        }
        return ExitCodes.Passed;
    }

    private static async Task<int> RunAsync(GuardedConsole console, string path, RunSettings settings, bool dryRun, JsonEventStream? events = null)
    {
        if (events is not null) events.File ??= path;
        var scenario = Load(path, settings.ScriptTimeout);
        if (!scenario.Hosts.IsEmpty || settings.Inventory is not null)
            return await RunAcrossHostsAsync(console, LabPath(path), scenario, settings, dryRun, events);
        if (events is not null) events.Lab = scenario.Name;
        return await RunScenarioAsync(console, scenario, LabPath(path), settings, dryRun, events);
    }

    /// <summary>
    /// `labrunner part`: one host's part of a multi-host lab, for its controller. Line 1 of standard input is the lab
    /// (base64 YAML, <see cref="PartProtocol"/>); then it runs as `run --host --format json` (or in a sandbox with
    /// --sandbox) with its barriers (<see cref="PartBarriers"/>) answered by the following lines.
    /// </summary>
    private static async Task<int> PartAsync(GuardedConsole console, RunSettings settings, JsonEventStream events)
    {
        events.File = PartProtocol.FileName;
        var input = new StreamReader(Console.OpenStandardInput(), new System.Text.UTF8Encoding(false), detectEncodingFromByteOrderMarks: false);
        var scenario = PartProtocol.LoadLab(input.ReadLine()); // exit 2 (<part>:line:col) when it is no valid lab
        events.Lab = scenario.Name;
        // A fixed id's journal that exists is a part of this lab still running here, or one that died: never share it.
        if (Directory.Exists(Path.Combine(settings.StateDir, settings.LabId!)))
        {
            var clean = settings.StateDir == LabJournal.DefaultRoot ? $"labrunner clean {settings.LabId}" : $"labrunner clean --state-dir {settings.StateDir} {settings.LabId}";
            return Problem.Environment($"a run with the lab id {settings.LabId} has a journal in {settings.StateDir} already: a part of this lab still running here, or one that died",
                $"wait for it to end, or, if it died, run `{clean}` (labrunner ls shows which)").Tell(events);
        }
        var part = new PartBarriers(input, events, console);
        return await RunScenarioAsync(console, scenario, PartProtocol.FileName, settings, dryRun: false, events, part);
    }

    private static async Task<int> RunScenarioAsync(GuardedConsole console, Scenario scenario, string path, RunSettings settings, bool dryRun, JsonEventStream? events,
        PartBarriers? part = null)
    {
        var selection = StepSelection.Of(scenario, settings.From, settings.Until); // an unknown STEP is exit 2, before anything runs
        // A bundle holds the lab file, read again after the run: a pipe's text is gone by then.
        if (settings.Bundle is not null && (!LabFiles.IsRegularFile(path) || LabFiles.IsDescriptor(path)))
            return Problem.Usage($"--bundle needs the lab as a file, and {path} is a pipe, a device or a descriptor", "save the lab to a .yaml file and run that").Tell(events);
        if (settings.Uplink is { } name)
        {
            if (Names.CheckInterface(name) is { } why) return Problem.Usage($"--uplink: {why}").Tell(events);
            scenario = scenario with { Uplink = scenario.Uplink with { Name = name } };
        }
        var runtimeName = settings.Runtime ?? scenario.Runtime ?? "process";
        if (events is not null)
        {
            events.Runtime = runtimeName;
            events.Plan = dryRun;
        }
        var driver = CommandDrivers.Default; // a plan lists argv: no driver runs them
        if (!dryRun)
        {
            try
            {
                driver = settings.Driver ?? CommandDrivers.FromEnvironment();
            }
            catch (ArgumentException e)
            {
                return Problem.Usage(e.Message).Tell(events);
            }
        }
        if (!dryRun && EnvironmentCheck.Problems(scenario, runtimeName) is { Count: > 0 } problems)
            return new Problem(string.Join(Environment.NewLine, problems.Select(p => $"environment: {p}")), null, ExitCodes.Environment).Tell(events);
        WarnIfCrowded(console, scenario);

        using var cts = new CancellationTokenSource();
        var interrupts = new Interrupts();
        void OnSignal(PosixSignalContext context, int signal)
        {
            context.Cancel = true; // do not die: tear down first
            var action = interrupts.On(signal);
            if (context.Signal == PosixSignal.SIGHUP)
            {
                console.Detach(); // the terminal is gone: writing to it fails (EIO)
                if (!Console.IsOutputRedirected) events?.Detach(); // so is standard output, when it was that terminal
            }
            switch (action)
            {
                case InterruptAction.StopAndTearDown:
                    console.MarkupLine($"[yellow]{context.Signal}: stopping after the current command, then tearing down[/]");
                    cts.Cancel();
                    break;
                case InterruptAction.Warn:
                    console.MarkupLine($"[yellow]{context.Signal} again: teardown is running (so that nothing is left); one more Ctrl-C abandons it[/]");
                    break;
                case InterruptAction.Abandon:
                    var clean = settings.StateDir == LabJournal.DefaultRoot ? "labrunner clean" : $"labrunner clean --state-dir {settings.StateDir}";
                    console.MarkupLine($"[red]{context.Signal} a third time: teardown abandoned, its journal kept; run `{Markup.Escape(clean)}` to remove what is left[/]");
                    // A reader that blocks the stream must not hold up the way out.
                    events?.End(interrupts.ExitCode, $"{context.Signal} a third time: teardown abandoned, its journal kept", $"run `{clean}` to remove what is left", TimeSpan.FromSeconds(1));
                    Environment.Exit(interrupts.ExitCode);
                    break;
            }
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => OnSignal(c, Processes.SIGINT));
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => OnSignal(c, Processes.SIGTERM));
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => OnSignal(c, Processes.SIGHUP));
        // A part's controller gone (end of input) is an ssh hang-up: stop after the current command, tear down, exit 129.
        part?.Start(why =>
        {
            if (interrupts.On(Processes.SIGHUP) != InterruptAction.StopAndTearDown) return; // a signal is stopping it already
            if (events is not null) events.Interruption = why;
            events?.Fail(why, null);
            cts.Cancel();
            console.MarkupLine($"[yellow]{Markup.Escape(why)}: stopping after the current command, then tearing down[/]");
        });

        // Report files are opened before the lab starts: a path that cannot be written is a usage error, with nothing built.
        foreach (var report in new[] { settings.JUnit, settings.Transcript, settings.Report, settings.Bundle }.OfType<string>())
            if (CannotWrite(report) is { } why)
                return Problem.Usage($"cannot write the report {report}: {why}").Tell(events);
        var reporter = new ConsoleReporter(console, settings.Verbose, plan: dryRun, selection);
        var recorder = new RunRecorder();
        // Commands reach them all: the console, the report files and, with --format json, the event stream.
        var observer = new CompositeObserver([reporter, recorder, .. events is null ? Array.Empty<LabObserver>() : [events], .. part is null ? Array.Empty<LabObserver>() : [part]]);
        ICommandRunner runner = dryRun
            ? new DryRunCommandRunner(observer.CommandRan)
            : CommandDrivers.Create(driver, new CliWrapCommandRunner(observer.CommandRan), observer.CommandRan);
        var runtime = ContainerRuntimes.Create(runtimeName, runner, observer.CommandRan);
        var options = new LabOptions
        {
            Sandbox = !settings.Host,
            StateRoot = settings.StateDir,
            LabId = settings.LabId,
            ScenarioPath = part is null ? Path.GetFullPath(path) : path,
            BeforeStep = part is not null ? part.BeforeStepAsync : settings.Stepping && !dryRun ? new PausePrompt(console, Console.In, selection).BeforeStepAsync : null,
            BeforeExpectations = part is null ? null : part.BeforeExpectationsAsync,
            OtherHostTraffic = part is null ? null : part.OtherHostTrafficAsync,
            QuitReason = part is null ? null : part.QuitReason,
            Until = selection.Until,
            Fault = FaultFromEnvironment(),
            // The HTML report and the transcript draw what the kernel held after each step (what `command` actions did included).
            ObserveTopology = settings.Report is not null || settings.Transcript is not null,
            // A bundle carries each capture's pcap: read before the file is deleted, as always, right after counting.
            KeepCaptures = settings.Bundle is not null && !dryRun,
        };
        // What the engine throws (a pcap filter libpcap refuses, a --host clash, an environment problem) is told by Telling.
        LabResult result;
        try
        {
            result = await new LabEngine(runner, runtime, observer, options).RunAsync(scenario, cts.Token);
        }
        catch (OperationCanceledException) when (part is not null && cts.IsCancellationRequested)
        {
            // Stopped before the lab was up (the preflight, the runtime's daemon): nothing was built, so nothing to tear down.
            return new Problem("interrupted before the lab started; nothing was built", null, interrupts.ExitCode).Tell(events);
        }
        try
        {
            // The bundle's version probes are shown (--verbose) but are not part of the run the reports describe.
            await WriteReportsAsync(console, recorder, settings, path, runtimeName, new CliWrapCommandRunner(reporter.CommandRan));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The lab is torn down already; a report that cannot be written is the machine's problem.
            return (Problem.Environment($"a report could not be written: {e.Message}", "free space where the report goes, or give another path")
                with { ExitCode = result.Teardown.Clean ? ExitCodes.Environment : ExitCodes.LeftBehind }).Tell(events);
        }
        // A protocol error ended the part like a quit; it is the controller's mistake (exit 2), unless something was left (4).
        if (part?.ProtocolError is not null && result.Teardown.Clean) return ExitCodes.InvalidInput;
        return dryRun ? ExitCodes.Passed : result.ExitCode(interrupts.ExitCode);
    }

    /// <summary>
    /// `labrunner replay [--plan] BUNDLE`: the bundle's scenario, checked against the SHA-256s of its manifest, run (or
    /// planned) from a temporary directory that is always removed, with the runtime it was run with. --host and --uplink
    /// come only from this command line: the manifest can say the run used them, never switch them on.
    /// </summary>
    private static async Task<int> ReplayAsync(GuardedConsole console, string bundlePath, RunSettings settings, bool plan, JsonEventStream? events = null)
    {
        if (events is not null) events.File = bundlePath;
        var directory = Directory.CreateTempSubdirectory("labrunner-replay-").FullName;
        try
        {
            BundleManifest manifest;
            string root;
            try
            {
                (manifest, root) = await BugBundle.ExtractAsync(bundlePath, directory);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                return Problem.Usage($"cannot replay {bundlePath}: {e.Message}", "nothing was run").Tell(events);
            }
            var scenario = Path.Combine(root, "scenario", manifest.ScenarioFile);
            if (!LabFiles.IsScript(scenario) && !LabFiles.YamlExtensions.Contains(Path.GetExtension(scenario), StringComparer.OrdinalIgnoreCase))
                return Problem.Usage($"cannot replay {bundlePath}: its scenario {manifest.ScenarioFile} is neither .yaml/.yml nor .csx").Tell(events);
            var asRun = (manifest.Host ? new[] { "--host" } : []).Concat(manifest.Uplink is { } u ? ["--uplink", u] : []).ToList();
            if (asRun.Count > 0 && !settings.Host && settings.Uplink is null)
                console.MarkupLine($"[yellow]note[/]: this bundle was run with {Markup.Escape(string.Join(' ', asRun))}; it replays in a sandbox unless you pass them: " +
                                   $"labrunner replay BUNDLE {Markup.Escape(string.Join(' ', asRun))}");
            var replayed = new BundleManifest(manifest.ScenarioFile, manifest.Runtime, settings.Host, settings.Uplink);
            console.MarkupLine($"[grey]{(plan ? "planning" : "replaying")} {Markup.Escape(bundlePath)}: labrunner {Markup.Escape(string.Join(' ', replayed.RunArguments()))}[/]");
            return await RunAsync(console, scenario, settings with { Runtime = manifest.Runtime }, dryRun: plan, events);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string? CannotWrite(string path)
    {
        try
        {
            var full = Path.GetFullPath(path);
            if (Directory.Exists(full)) return "it is a directory";
            if (Path.GetDirectoryName(full) is { } dir && !Directory.Exists(dir)) return $"no directory {dir}";
            var existed = File.Exists(full);
            using (new FileStream(full, FileMode.Append, FileAccess.Write)) { }
            if (!existed) File.Delete(full); // only a probe: the report is written after the run
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return e.Message;
        }
    }

    private static async Task WriteReportsAsync(IAnsiConsole console, RunRecorder recorder, RunSettings settings, string scenarioPath, string runtime,
        ICommandRunner runner)
    {
        if (settings.Bundle is { } bundlePath)
        {
            var manifest = new BundleManifest(Path.GetFileName(scenarioPath), runtime, settings.Host, settings.Uplink);
            await BugBundle.WriteAsync(bundlePath, recorder.Record, scenarioPath, manifest, runner);
            console.MarkupLine($"[grey]bug-report bundle: {Markup.Escape(bundlePath)} (replay it with: labrunner replay {Markup.Escape(bundlePath)})[/]");
        }
        if (settings.JUnit is { } junit)
        {
            using (var writer = System.Xml.XmlWriter.Create(junit, new System.Xml.XmlWriterSettings { Indent = true, Encoding = new System.Text.UTF8Encoding(false) }))
                JUnitReport.Create(recorder.Record, runtime).Save(writer);
            console.MarkupLine($"[grey]JUnit report: {Markup.Escape(junit)}[/]");
        }
        if (settings.Transcript is { } transcript)
        {
            File.WriteAllText(transcript, MarkdownTranscript.Create(recorder.Record));
            console.MarkupLine($"[grey]transcript: {Markup.Escape(transcript)}[/]");
        }
        if (settings.Report is { } report)
        {
            // Graphviz draws each step's topology; without it the page says so (and how to install it) in place of each picture.
            var pictures = await HtmlReport.DrawAsync(recorder.Record, runner);
            if (Graphviz.Find() is null)
                console.MarkupLine($"[yellow]note[/]: Graphviz is not installed, so the report has no topology pictures; {Markup.Escape(Graphviz.Fix)}");
            File.WriteAllText(report, HtmlReport.Create(recorder.Record, pictures, runtime));
            console.MarkupLine($"[grey]HTML report: {Markup.Escape(report)}[/]");
        }
    }

    private static async Task<int> SeedAsync(IAnsiConsole console, string runtimeName, CancellationToken ct)
    {
        if (!Processes.IsRoot) return Problem.Environment("labrunner image seed needs root; run it with sudo").Tell();
        var reporter = new ConsoleReporter(console, verbose: true);
        var runtime = ContainerRuntimes.Create(runtimeName, new CliWrapCommandRunner(reporter.CommandRan), reporter.CommandRan);
        await runtime.SeedImageAsync(ct); // an environment problem (no daemon, no busybox-static) is told by Telling
        console.MarkupLine($"[green]✓[/] {BusyboxImage.Reference} is in {runtimeName}");
        return ExitCodes.Passed;
    }

    /// <summary>
    /// Test-only switch for fault injection (docs/RELIABILITY.md): LABRUNNER_FAULT_AFTER_ACTION=k and
    /// LABRUNNER_FAULT_SIGNAL=KILL|INT|TERM|HUP make the run signal itself right after action k; with
    /// LABRUNNER_FAULT_WHILE_COMMAND=WORD (and LABRUNNER_FAULT_HOLD_SECONDS=S), while action k's command ending in WORD runs.
    /// </summary>
    private static FaultInjection? FaultFromEnvironment()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("LABRUNNER_FAULT_AFTER_ACTION"), out var k)) return null;
        var signal = Environment.GetEnvironmentVariable("LABRUNNER_FAULT_SIGNAL") switch
        {
            "INT" => Processes.SIGINT,
            "TERM" => Processes.SIGTERM,
            "HUP" => Processes.SIGHUP,
            _ => Processes.SIGKILL,
        };
        var hold = double.TryParse(Environment.GetEnvironmentVariable("LABRUNNER_FAULT_HOLD_SECONDS"), System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.Zero;
        return new FaultInjection(k, signal) { WhileCommand = Environment.GetEnvironmentVariable("LABRUNNER_FAULT_WHILE_COMMAND") is { Length: > 0 } w ? w : null, Hold = hold };
    }

    private static async Task<int> CleanAsync(IAnsiConsole console, bool verbose, string stateDir, IReadOnlyCollection<string> ids)
    {
        var reporter = new ConsoleReporter(console, verbose);
        var runner = new CliWrapCommandRunner(reporter.CommandRan);
        var cleaner = new Cleaner(runner, name => ContainerRuntimes.Create(name, runner, reporter.CommandRan), stateDir);
        if (ids.Count > 0) cleaner.CheckNamed(ids); // an unknown id or a live run's: exit 2, nothing cleaned
        if (!Processes.IsRoot) return Problem.Environment("labrunner clean needs root; run it with sudo").Tell();
        var cleaned = await cleaner.CleanAsync(lab => console.MarkupLine($"[bold]cleaning[/] {Markup.Escape(lab)}"), ids: ids.Count > 0 ? ids : null);
        foreach (var lab in cleaned)
        {
            foreach (var p in lab.Report.Problems) console.MarkupLine($"  [yellow]! {Markup.Escape(p)}[/]");
            foreach (var l in lab.Report.Leftovers) console.MarkupLine($"  [red]✗ left behind: {Markup.Escape(l)}[/]");
            if (lab.Report.Clean) console.MarkupLine($"  [green]✓[/] {lab.Report.Undone} undo records replayed; nothing of lab {lab.LabId} is left");
        }
        if (cleaned.Count == 0) console.MarkupLine("nothing to clean: no journal of a dead run");
        return cleaned.All(c => c.Report.Clean) ? ExitCodes.Passed : ExitCodes.LeftBehind;
    }
}
