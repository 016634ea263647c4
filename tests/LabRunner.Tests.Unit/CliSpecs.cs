using System.CommandLine;
using CliWrap;
using Command = System.CommandLine.Command;
using CliWrap.Buffered;
using LabRunner.Cli;
using LabRunner.Cli.Output;
using LabRunner.Loading;
using LabRunner.Scripting;
using LabRunner.Tests.Unit.Infrastructure;
using Spectre.Console;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The command line's pieces that need no lab (issue 15): `labrunner completion bash`, checked by bash itself, and the
/// lab file's kind told by its extension.
/// </summary>
public sealed class CliSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RootCommand Root() => Program.CreateRoot(new GuardedConsole(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) })));

    private static IEnumerable<(string Path, Command Command)> Commands(Command command, string path = "") =>
        command.Subcommands.SelectMany(c => Commands(c, $"{path}/{c.Name}").Prepend(($"{path}/{c.Name}", c)));

    private static async Task<BufferedCommandResult> Bash(string script, CancellationToken ct) =>
        await CliWrap.Cli.Wrap("bash").WithArguments(["--norc", "--noprofile", "-c", script]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(ct);

    [Fact]
    public async Task The_bash_completion_script_is_valid_bash_and_names_every_command_and_option()
    {
        using var dir = new TempDirectory();
        var root = Root();
        var script = BashCompletion.Script(root);
        File.WriteAllText(dir.File("labrunner.bash"), script);

        var check = await Bash($"bash -n '{dir.File("labrunner.bash")}'", Ct);

        Assert.True(check.ExitCode == 0, check.StandardError);
        foreach (var (path, command) in Commands(root))
        {
            Assert.Contains($"\"{path}\")", script);
            foreach (var option in command.Options.Where(o => !o.Hidden)) Assert.Contains(option.Name, script);
        }
        Assert.Contains("ls", root.Subcommands.Select(c => c.Name));
        Assert.Contains("completion", root.Subcommands.Select(c => c.Name));
    }

    [Theory]
    [InlineData("labrunner r", "run replay")]
    [InlineData("labrunner image s", "seed")]
    [InlineData("labrunner run --runtime d", "docker")]
    [InlineData("labrunner run lab.yaml --u", "--uplink --until")]
    [InlineData("labrunner ls --format ''", "json table")]
    [InlineData("labrunner run ''", "a.yaml c.csx state sub")]
    [InlineData("labrunner replay ''", "b.tar.gz state sub")]
    [InlineData("labrunner exec --state-dir state ''", "abc123")]
    [InlineData("labrunner exec --state-dir state abc123 ''", "")]
    [InlineData("labrunner clean --state-dir state abc123 ''", "abc123")]
    [InlineData("labrunner completion ''", "bash")]
    public async Task Completion_offers_what_fits_where_the_cursor_is(string line, string offered)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("labrunner.bash"), BashCompletion.Script(Root()));
        foreach (var f in new[] { "a.yaml", "b.tar.gz", "c.csx", "d.txt" }) File.WriteAllText(dir.File(f), "");
        Directory.CreateDirectory(dir.File("sub"));
        Directory.CreateDirectory(dir.File("state/abc123"));
        Directory.CreateDirectory(dir.File("state/.new-abc124-1"));

        var r = await Bash($"cd '{dir.Path}' && source labrunner.bash && COMP_WORDS=({line}) && COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)) && _labrunner && " +
                           "printf '%s\\n' \"${COMPREPLY[@]}\"", Ct);

        Assert.True(r.ExitCode == 0, r.StandardError);
        static string Words(string text) => string.Join(' ', text.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(Words(offered), Words(r.StandardOutput));
    }

    [Theory]
    [InlineData("lab.txt", "'.txt' is no lab file: a YAML lab is .yaml or .yml, a C# lab .csx")]
    [InlineData("lab", "a file without an extension is no lab file: a YAML lab is .yaml or .yml, a C# lab .csx")]
    [InlineData("lab.json", "'.json' is no lab file: a YAML lab is .yaml or .yml, a C# lab .csx")]
    public void A_lab_file_of_another_extension_is_refused_not_read_as_yaml(string name, string message)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(name), "lab: x\nsteps:\n  - title: t\n");

        var error = Assert.Single(Assert.Throws<ScenarioInvalidException>(() => LabFiles.Load(dir.File(name))).Errors);

        Assert.Equal(message, error.Message);
        Assert.Equal(dir.File(name), error.Span.File);
    }

    [Theory]
    [InlineData("lab.yaml")]
    [InlineData("lab.YML")]
    public void A_yaml_lab_is_read(string name)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(name), "lab: x\nsteps:\n  - title: t\n");

        Assert.Equal("x", LabFiles.Load(dir.File(name)).Name);
    }

    [Fact]
    public void A_missing_file_is_said_to_be_missing_whatever_its_extension() =>
        Assert.StartsWith("no such file", Assert.Single(Assert.Throws<ScenarioInvalidException>(() => LabFiles.Load("/nonexistent/lab.txt")).Errors).Message);

    [Fact]
    public async Task A_pipe_has_no_name_to_go_by_and_is_read_as_yaml()
    {
        // What the shell's <(…) gives: /dev/fd/N, a pipe. (`-` is /dev/stdin, the same kind of name.)
        using var writer = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
        using var reader = writer.ClientSafePipeHandle;
        var path = $"/dev/fd/{reader.DangerousGetHandle()}";
        await writer.WriteAsync("lab: piped\nsteps:\n  - title: t\n"u8.ToArray(), Ct);
        writer.Close();

        Assert.False(LabFiles.IsRegularFile(path));
        Assert.Equal("piped", LabFiles.Load(path).Name);
    }

    [Fact]
    public void Descriptors_and_files_are_told_apart()
    {
        Assert.True(LabFiles.IsDescriptor("/dev/stdin"));
        Assert.True(LabFiles.IsDescriptor("/dev/fd/63"));
        Assert.True(LabFiles.IsDescriptor("/proc/self/fd/3"));
        Assert.False(LabFiles.IsDescriptor("/tmp/lab"));
        Assert.False(LabFiles.IsRegularFile("/dev/null"));
        Assert.False(LabFiles.IsRegularFile(Repo.ArticleScenarios));
        Assert.True(LabFiles.IsRegularFile(Repo.Article("article.yaml")));
        Assert.False(LabFiles.IsRegularFile("/nonexistent"));
    }
}
