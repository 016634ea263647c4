using System.Diagnostics;
using System.Text;
using LabRunner.Loading;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// Hostile files are rejected (exit 2 in the CLI), with a position, in bounded time and memory, and never crash the
/// process: alias bombs, deep nesting, a 50 MB file, binary bytes, invalid UTF-8, endless devices, error floods.
/// docs/RELIABILITY.md has the measured times and peak memory of the CLI on each.
/// </summary>
public sealed class HostileInputSpecs
{
    /// <summary>Generous bounds for a loaded CI machine; measured values are ~10x smaller (docs/RELIABILITY.md).</summary>
    private static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(5);
    private const long MaxAllocatedBytes = 300L << 20;

    public static TheoryData<string> Cases() =>
    [
        "alias-bomb", "deep-flow-sequences", "deep-flow-mappings", "deep-block-sequences", "file-50MB", "sparse-50MB",
        "binary", "invalid-utf8", "nul-bytes", "dev-zero", "dev-urandom", "error-flood", "long-unknown-key", "long-scalar",
        "unicode-line-separator",
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_hostile_file_is_rejected_with_a_position_in_bounded_time_and_memory(string kind)
    {
        using var dir = new TempDirectory();
        var path = Write(kind, dir);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();

        var errors = Assert.Throws<ScenarioInvalidException>(() => ScenarioLoader.LoadFile(path)).Errors;

        watch.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.All(errors, e => Assert.True(e.Span.Line > 0, $"no position: {e}"));
        Assert.True(errors.Length <= ScenarioLoader.MaxErrors + 1, $"{errors.Length} errors listed");
        Assert.True(watch.Elapsed < MaxTime, $"{kind}: {watch.Elapsed.TotalSeconds:0.00}s");
        Assert.True(allocated < MaxAllocatedBytes, $"{kind}: {allocated >> 20} MiB allocated");
    }

    [Fact]
    public void An_alias_bomb_is_refused_at_its_first_anchor()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<ScenarioInvalidException>(() => ScenarioLoader.LoadFile(Write("alias-bomb", dir))).Errors[0];
        Assert.Equal(2, error.Span.Line);
        Assert.StartsWith("YAML anchor '&a0' is not allowed", error.Message);
    }

    [Fact]
    public void Nesting_100000_deep_is_refused_at_level_65_instead_of_overflowing_the_stack()
    {
        var error = Scenarios.ErrorsIn("lab: x\nsteps: " + new string('[', 100_000) + new string(']', 100_000) + "\n")[0];
        error.At(2, 7 + ScenarioLoader.MaxDepth); // the root mapping is level 1, so the 64th [ is level 65
        Assert.Equal($"YAML nested more than {ScenarioLoader.MaxDepth} levels deep", error.Message);
    }

    [Fact]
    public void Nesting_of_a_real_lab_is_far_below_the_limit() =>
        Assert.NotNull(ScenarioLoader.LoadFile(Repo.Article("article.yaml")));

    internal static string Write(string kind, TempDirectory dir)
    {
        var path = dir.File(kind + ".yaml");
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
                while (text.Length < ScenarioLoader.MaxFileBytes - 100) text.Append("      - netns-add: n1;reboot\n");
                File.WriteAllText(path, text.ToString());
                break;
            }
            case "long-unknown-key": // "did you mean" compares each unknown key with the known ones
                File.WriteAllText(path, "lab: x\nsteps:\n  - title: x\n    " + new string('k', ScenarioLoader.MaxFileBytes - 100) + ": 1\n");
                break;
            case "long-scalar":
                File.WriteAllText(path, "lab: x\nsteps:\n  - title: x\n    actions:\n      - netns-add: " + new string('n', ScenarioLoader.MaxFileBytes - 100) + "\n");
                break;
            case "unicode-line-separator":
                File.WriteAllText(path, "lab: x\nsteps:\n  - title: x\n    expect:\n      - links: {in: busybox\u2028-3, exactly: [lo]}\n");
                break;
            default:
                throw new ArgumentException(kind);
        }
        return path;
    }
}
