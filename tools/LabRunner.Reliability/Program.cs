using System.Diagnostics;
using System.Globalization;
using LabRunner.Testing;

namespace LabRunner.Reliability;

/// <summary>
/// lr-reliability: the long reliability runs of docs/RELIABILITY.md (root; containerd and dockerd running).
/// <code>
///   lr-reliability snapshot                                   print the host snapshot
///   lr-reliability faults [--runtime R]... [--signal S]... [--k 1,5,9|all] [--scenario FILE]
///   lr-reliability parallel [--runs 8] [--runtime R]          N runs of the article at once
///   lr-reliability consecutive [--runs 50] [--runtime R]      N runs in a row
///   lr-reliability mutate [--count 5000] [--seed N] [--run 20]
///   lr-reliability kills [--runs 20] [--runtime R] [--max 10] [--seed N]   SIGKILL at random moments, then clean
///   lr-reliability hostile [--dir DIR]                      write the hostile files, print 'kind path'
///   lr-reliability hardening [--runs 10] [--fault F]... [--seed N]   issue 9's faults: damaged journals, daemons down, full disks
///   lr-reliability signals --fault sighup|pause-int|group-int [--runs 20] [--runtime R] [--max 10] [--seed N]
/// </code>
/// Each prints one line per case and a summary; exit 0 when everything was clean, 1 otherwise.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0) return Usage();
        var options = Options.Parse(args[1..]);
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        return args[0] switch
        {
            "snapshot" => PrintSnapshot(options),
            "faults" => await FaultsAsync(options, cts.Token),
            "parallel" => await Concurrency.ParallelMainAsync(options.Int("runs", 8), options.One("runtime", "process"), options.Scenario, Console.Out, cts.Token),
            "consecutive" => await Concurrency.ConsecutiveMainAsync(options.Int("runs", 50), options.One("runtime", "process"), options.Scenario, Console.Out, cts.Token),
            "hostile" => WriteHostile(options),
            "kills" => await KillsAsync(options, cts.Token),
            "hardening" => await HardeningAsync(options, cts.Token),
            "signals" => await SignalFaults.MainAsync(options.One("fault", "sighup"), options.Int("runs", 20), options.One("runtime", "process"), options.Scenario,
                options.Int("seed", Environment.TickCount & 0x7fffffff), options.Int("max", 10), Console.Out, cts.Token),
            "mutate" => await Mutation.MainAsync(options.Int("count", 5000), options.Int("seed", Environment.TickCount & 0x7fffffff), options.Int("run", 20), Console.Out, cts.Token),
            _ => Usage(),
        };
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: lr-reliability snapshot | faults [--runtime R] [--signal KILL|INT|TERM] [--k LIST|all] | parallel [--runs N] | consecutive [--runs N] | mutate [--count N] [--seed N] [--run N] | signals --fault sighup|pause-int|group-int [--runs N] [--runtime R]");
        return 2;
    }

    /// <summary>SIGKILL at random moments (seeded): --runs N per runtime, delays uniform in [0.3 s, --max seconds].</summary>
    private static async Task<int> KillsAsync(Options options, CancellationToken ct)
    {
        var runs = options.Int("runs", 20);
        var seed = options.Int("seed", Environment.TickCount & 0x7fffffff);
        var max = options.Int("max", 10);
        var random = new Random(seed);
        var runtimes = options.All("runtime") is { Count: > 0 } r ? r : Runtimes.ContainerRuntimes.Names;
        var stateDir = Path.Combine(Path.GetTempPath(), $"lr-kills-{Environment.ProcessId}");
        Console.WriteLine($"random kills: seed {seed}, {runs} runs per runtime, SIGKILL after 0.3-{max} s, then clean");
        var summary = new List<string>();
        var allClean = true;
        foreach (var runtime in runtimes)
        {
            var clean = 0;
            for (var i = 0; i < runs; i++)
            {
                var delay = TimeSpan.FromSeconds(0.3 + random.NextDouble() * (max - 0.3));
                var result = await FaultInjection.RunKilledAtAsync(options.Scenario, runtime, delay, stateDir, ct);
                Console.WriteLine("  " + result);
                if (result.Clean) clean++;
            }
            summary.Add($"{runtime,-10} SIGKILL at a random moment: {clean} of {runs} clean");
            allClean &= clean == runs;
        }
        LabProcess.DeleteIfEmpty(stateDir);
        foreach (var line in summary) Console.WriteLine(line);
        return allClean ? 0 : 1;
    }

    /// <summary>--runs N cases of each --fault (default: every one of <see cref="HardeningFaults.Kinds"/>), k of n clean per fault.</summary>
    private static async Task<int> HardeningAsync(Options options, CancellationToken ct)
    {
        var runs = options.Int("runs", 10);
        var seed = options.Int("seed", Environment.TickCount & 0x7fffffff);
        var faults = options.All("fault") is { Count: > 0 } f ? f : HardeningFaults.Kinds;
        var random = new Random(seed);
        Console.WriteLine($"hardening faults: seed {seed}, {runs} runs of each of {string.Join(", ", faults)}");
        var summary = new List<string>();
        var allClean = true;
        foreach (var fault in faults)
        {
            var clean = 0;
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < runs; i++)
            {
                if (ct.IsCancellationRequested) { Console.WriteLine("interrupted"); return 130; }
                var result = await HardeningFaults.RunAsync(fault, i, options.Scenario, random, ct);
                Console.WriteLine("  " + result);
                if (result.Clean) clean++;
            }
            summary.Add($"{fault,-24} {clean} of {runs} clean in {watch.Elapsed.TotalSeconds:0} s");
            allClean &= clean == runs;
        }
        foreach (var line in summary) Console.WriteLine(line);
        return allClean ? 0 : 1;
    }

    /// <summary>Writes every hostile file into --dir and prints "kind path" lines (scripts/reliability.sh measures the CLI on each).</summary>
    private static int WriteHostile(Options options)
    {
        var dir = options.One("dir", Path.Combine(Path.GetTempPath(), "lr-hostile"));
        Directory.CreateDirectory(dir);
        foreach (var kind in HostileFiles.Kinds) Console.WriteLine($"{kind} {HostileFiles.Write(kind, dir)}");
        return 0;
    }

    private static int PrintSnapshot(Options options)
    {
        var watch = Stopwatch.StartNew();
        var snapshot = HostSnapshot.Take(new SnapshotOptions { AlsoNamespaces = options.All("netns") });
        foreach (var (facet, entries) in snapshot.Facets)
        {
            Console.WriteLine($"{facet}: {entries.Count}");
            foreach (var e in entries) Console.WriteLine($"  {e}");
        }
        Console.WriteLine($"(taken in {watch.ElapsedMilliseconds} ms)");
        return 0;
    }

    private static async Task<int> FaultsAsync(Options options, CancellationToken ct)
    {
        var scenario = options.Scenario;
        var k = FaultInjection.ActionCount(scenario);
        var runtimes = options.All("runtime") is { Count: > 0 } r ? r : Runtimes.ContainerRuntimes.Names;
        var signals = options.All("signal") is { Count: > 0 } s ? s : FaultInjection.Signals;
        var ks = options.One("k", "all") == "all" ? [.. Enumerable.Range(1, k)] : options.One("k", "").Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToList();
        var stateDir = Path.Combine(Path.GetTempPath(), $"lr-faults-{Environment.ProcessId}");
        Console.WriteLine($"fault injection: {Path.GetFileName(scenario)} has K = {k} actions; k in [{string.Join(',', ks)}]; runtimes {string.Join(',', runtimes)}; signals {string.Join(',', signals)}; state dir {stateDir}");
        var summary = new List<string>();
        var allClean = true;
        var total = Stopwatch.StartNew();
        foreach (var runtime in runtimes)
        foreach (var signal in signals)
        {
            var watch = Stopwatch.StartNew();
            var clean = 0;
            foreach (var i in ks)
            {
                ct.ThrowIfCancellationRequested();
                var result = await FaultInjection.RunAsync(scenario, runtime, signal, i, stateDir, ct);
                Console.WriteLine("  " + result);
                if (result.Clean) clean++;
            }
            var line = $"{runtime,-10} SIG{signal,-4}: {clean} of {ks.Count} clean (K = {k}) in {watch.Elapsed.TotalSeconds:0} s, {watch.Elapsed.TotalSeconds / ks.Count:0.0} s per case";
            Console.WriteLine(line);
            summary.Add(line);
            allClean &= clean == ks.Count;
        }
        LabProcess.DeleteIfEmpty(stateDir);
        Console.WriteLine();
        Console.WriteLine($"summary ({total.Elapsed.TotalMinutes:0.0} min):");
        foreach (var line in summary) Console.WriteLine("  " + line);
        return allClean ? 0 : 1;
    }
}

/// <summary>--name value pairs; a name may repeat.</summary>
public sealed class Options
{
    private readonly List<(string Name, string Value)> _pairs = [];

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"expected --name value, got '{args[i]}'");
            o._pairs.Add((args[i][2..], args[i + 1]));
        }
        if (args.Length % 2 == 1) throw new ArgumentException($"'{args[^1]}' has no value");
        return o;
    }

    public IReadOnlyList<string> All(string name) => [.. _pairs.Where(p => p.Name == name).SelectMany(p => p.Value.Split(',', StringSplitOptions.RemoveEmptyEntries))];

    public string One(string name, string fallback) => _pairs.LastOrDefault(p => p.Name == name).Value ?? fallback;

    public int Int(string name, int fallback) => int.Parse(One(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public string Scenario => Path.GetFullPath(One("scenario", LabProcess.Scenario("article/article.yaml")));
}
