using System.Text;

namespace LabRunner.Reliability;

/// <summary>
/// Hostile scenario files (docs/RELIABILITY.md): each must be rejected with exit 2 and a position, in bounded time
/// and memory. Used by the unit tests (in-process) and by `scripts/reliability.sh hostile` (the CLI, measured).
/// </summary>
public static class HostileFiles
{
    public static readonly IReadOnlyList<string> Kinds =
    [
        "alias-bomb", "deep-flow-sequences", "deep-flow-mappings", "deep-block-sequences", "file-50MB", "sparse-50MB",
        "binary", "invalid-utf8", "nul-bytes", "dev-zero", "dev-urandom", "error-flood", "long-unknown-key", "long-scalar",
        "unicode-line-separator", "filter-option", "csx-recursion", "csx-endless-loop", "csx-blocked",
    ];

    /// <summary>The C# lab scripts among <see cref="Kinds"/> (.csx: compiled and run by Roslyn, under --script-timeout).</summary>
    public static bool IsScript(string kind) => kind.StartsWith("csx-", StringComparison.Ordinal);

    /// <summary>Writes the hostile file of this kind into <paramref name="directory"/> and returns its path (or a device's).</summary>
    public static string Write(string kind, string directory)
    {
        var path = Path.Combine(directory, kind + (IsScript(kind) ? ".csx" : ".yaml"));
        switch (kind)
        {
            case "alias-bomb": // billion laughs: 9^9 strings from 600 bytes
            {
                var text = new StringBuilder("lab: bomb\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
                for (var i = 1; i <= 9; i++) text.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 9))}]\n");
                text.Append("steps:\n  - title: x\n    actions:\n      - command: { argv: *a9, undo: none }\n");
                File.WriteAllText(path, text.ToString());
                break;
            }
            case "deep-flow-sequences":
                File.WriteAllText(path, "lab: deep\nsteps: " + new string('[', 100_000) + new string(']', 100_000) + "\n");
                break;
            case "deep-flow-mappings":
                File.WriteAllText(path, "lab: deep\nsteps: " + string.Concat(Enumerable.Repeat("{a: ", 100_000)) + "1" + new string('}', 100_000) + "\n");
                break;
            case "deep-block-sequences": // as deep as 1 MiB of indentation allows
            {
                var text = new StringBuilder("lab: deep\nsteps:\n");
                for (var i = 0; i < 1000; i++) text.Append(' ', 2 * i).Append("-\n");
                File.WriteAllText(path, text.ToString());
                break;
            }
            case "file-50MB":
            {
                using var f = File.CreateText(path);
                f.Write("lab: huge\nsteps:\n");
                var chunk = "  - title: x\n    actions:\n      - netns-add: n1\n";
                for (var written = 0L; written < 50L << 20; written += chunk.Length) f.Write(chunk);
                break;
            }
            case "sparse-50MB":
            {
                using var f = File.Create(path);
                f.SetLength(50L << 20);
                break;
            }
            case "binary":
                File.WriteAllBytes(path, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251))]);
                break;
            case "invalid-utf8":
                File.WriteAllBytes(path, [.. "lab: caf"u8, 0xC3, 0x28, .. "\nsteps: []\n"u8]);
                break;
            case "nul-bytes":
                File.WriteAllBytes(path, [.. "lab: x\nsteps:\n  - title: a"u8, 0, .. "\n"u8]);
                break;
            case "dev-zero":
                return "/dev/zero";
            case "dev-urandom":
                return "/dev/urandom";
            case "error-flood": // ~1 MiB of invalid actions: tens of thousands of errors, 50 listed
            {
                var text = new StringBuilder("lab: flood\nsteps:\n  - title: x\n    actions:\n");
                while (text.Length < LabRunner.Loading.ScenarioLoader.MaxFileBytes - 100) text.Append("      - netns-add: n1;reboot\n");
                File.WriteAllText(path, text.ToString());
                break;
            }
            case "long-unknown-key": // "did you mean" compares each unknown key with the known ones
                File.WriteAllText(path, "lab: x\nsteps:\n  - title: x\n    " + new string('k', LabRunner.Loading.ScenarioLoader.MaxFileBytes - 100) + ": 1\n");
                break;
            case "long-scalar":
                File.WriteAllText(path, "lab: x\nsteps:\n  - title: x\n    actions:\n      - netns-add: " + new string('n', LabRunner.Loading.ScenarioLoader.MaxFileBytes - 100) + "\n");
                break;
            case "unicode-line-separator":
                File.WriteAllText(path, "lab: x\nsteps:\n  - title: x\n    expect:\n      - links: {in: busybox\u2028-3, exactly: [lo]}\n");
                break;
            case "filter-option": // a pcap filter tcpdump would read as an option: -w writes a file where the lab says
                File.WriteAllText(path, "lab: x\nsteps:\n  - title: x\n    actions: [ { netns-add: n1 } ]\n    expect:\n      - capture:\n" +
                                        "          while: { ping: { from: n1, to: 127.0.0.1 } }\n" +
                                        $"          on: [ {{ link: lo, in: n1, never: [\"-w{Path.Combine(directory, "written-by-tcpdump.pcap")}\"] }} ]\n");
                break;
            case "csx-recursion": // used to overflow the stack: the process died (exit 134) with a 40-line stack trace
                File.WriteAllText(path, "int Down(int n) => Down(n + 1) + 1;\nDown(0);\nreturn Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));\n");
                break;
            case "csx-endless-loop": // used to never return
                File.WriteAllText(path, "var n = 0L;\nwhile (true) n++;\nreturn Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));\n");
                break;
            case "csx-blocked": // blocked in a call of its own, out of reach of the script's guards: abandoned after the timeout
                File.WriteAllText(path, "System.Threading.Thread.Sleep(-1);\nreturn Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));\n");
                break;
            default:
                throw new ArgumentException(kind);
        }
        return path;
    }
}
