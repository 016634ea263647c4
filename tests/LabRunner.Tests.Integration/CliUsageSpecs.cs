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
}
