namespace LabRunner.Tests.Integration;

/// <summary>How the command line answers someone finding their way (issue 15): help, and usage errors that say what was meant.</summary>
public sealed class CliUsageSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_bare_labrunner_prints_the_help()
    {
        var r = await LabCli.RunAsync([], ct: Ct);

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Usage:", r.Stdout);
        Assert.Contains("validate", r.Stdout);
        Assert.DoesNotContain("error", r.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("validate")]
    [InlineData("plan")]
    [InlineData("graph")]
    public async Task An_unknown_option_where_the_lab_goes_is_an_unknown_option_not_a_missing_file(string command)
    {
        var r = await LabCli.RunAsync([command, "--bogus"], ct: Ct);

        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("unknown option '--bogus'", r.Stderr);
        Assert.DoesNotContain("no such file", r.Output);
    }

    [Fact]
    public async Task An_after_step_that_is_no_number_says_what_it_takes()
    {
        var r = await LabCli.RunAsync(["graph", LabCli.Scenario("article/01-veth-bridge.yaml"), "--after-step", "abc"], ct: Ct);

        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("--after-step takes the number of a step, e.g. --after-step 3, not 'abc'", r.Stderr);
        Assert.DoesNotContain("System.Nullable", r.Output);
    }

    [Fact]
    public async Task Graph_draws_mermaid_by_default_and_dot_or_svg_when_asked()
    {
        var lab = LabCli.Scenario("article/article.yaml");

        var mermaid = await LabCli.RunAsync(["graph", lab], ct: Ct);
        var dot = await LabCli.RunAsync(["graph", lab, "--format", "dot"], ct: Ct);
        var svg = await LabCli.RunAsync(["graph", lab, "--format", "svg", "--after-step", "6"], ct: Ct);

        Assert.True(mermaid.ExitCode == 0, mermaid.ToString());
        Assert.StartsWith("flowchart LR\n", mermaid.Stdout);
        Assert.True(dot.ExitCode == 0, dot.ToString());
        Assert.StartsWith("graph lab {\n", dot.Stdout);
        Assert.Contains("\"host/veth-1\" -- \"container:busybox-1/veth-2\"", dot.Stdout);
        Assert.True(svg.ExitCode == 0, svg.ToString());
        Assert.Contains("<svg ", svg.Stdout);
        Assert.Contains("netns n1", svg.Stdout);
    }

    [Fact]
    public async Task Graph_as_svg_without_graphviz_is_an_environment_problem_with_the_fix()
    {
        // A PATH with dotnet alone: labrunner starts, and finds no dot.
        var bin = Directory.CreateTempSubdirectory("labrunner-nodot-").FullName;
        try
        {
            var dotnet = new FileInfo("/usr/bin/dotnet").ResolveLinkTarget(returnFinalTarget: true)?.FullName
                         ?? Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(d => Path.Combine(d, "dotnet")).First(File.Exists);
            File.CreateSymbolicLink(Path.Combine(bin, "dotnet"), dotnet);

            var r = await LabCli.RunAsync(["graph", LabCli.Scenario("article/article.yaml"), "--format", "svg"],
                new Dictionary<string, string?> { ["PATH"] = bin }, ct: Ct);

            Assert.True(r.ExitCode == 3, r.ToString());
            Assert.Contains("environment: Graphviz is not installed", r.Stderr);
            Assert.Contains("fix: apt-get install -y graphviz", r.Stderr);
            Assert.Empty(r.Stdout);
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }
}
