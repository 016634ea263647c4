using System.Diagnostics;

namespace LabRunner.Tests.Regression;

/// <summary>
/// A wrong expectation must fail the test that holds it, saying what was expected and what was observed, and
/// still leave nothing behind. These specs run deliberately wrong labs and check that failure itself.
/// </summary>
public sealed class WrongExpectationSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The router lab without forwarding, but expecting a ping across it to succeed: wrong on purpose.</summary>
    private sealed class WrongRouterLab : LabFixture
    {
        protected override Scenario CreateScenario() => RouterLab.Define(ipForward: "0")
            .Step("Wrong on purpose: a ping across a router that does not forward", s => s
                .Expect.Ping(from: "h1", to: RouterLab.B.HostIp).Within(TimeSpan.FromSeconds(1)))
            .Build();
    }

    [LabFact]
    public async Task A_wrong_expectation_in_a_lab_fixture_fails_with_expected_and_observed_and_the_lab_is_torn_down()
    {
        var fixture = new WrongRouterLab();

        var failure = await Assert.ThrowsAsync<LabAssertionException>(async () => await fixture.InitializeAsync());
        await fixture.DisposeAsync();

        Assert.Contains("step \"Wrong on purpose: a ping across a router that does not forward\" failed", failure.Message);
        Assert.Contains("expected: ping from h1 to 10.0.2.10 succeeds", failure.Message);
        Assert.Contains("observed: 1 sent, 0 received (100% packet loss)", failure.Message);
        Assert.Contains("why: the gateway 10.0.1.1 is netns router, which does not forward IPv4 (net.ipv4.ip_forward = 0)", failure.Message);
        Assert.Matches($@"  at \S*{nameof(WrongExpectationSpecs)}\.cs:\d+:1\n", failure.Message); // where the expectation was written
        Assert.Contains("nothing of the lab is left on the host", fixture.Transcript);
        Assert.False(Directory.Exists($"/var/run/netns/lr-{LabIdOf(fixture.Transcript)}"));
    }

    [LabFact]
    public async Task A_wrong_expectation_checked_against_a_live_lab_fails_with_expected_and_observed()
    {
        var fixture = new RouterFixtureForThisTest();
        await fixture.InitializeAsync();
        try
        {
            var failure = await Assert.ThrowsAsync<LabAssertionException>(() => fixture.ExpectAsync(e => e
                .Ping(from: "h1", to: RouterLab.B.HostIp).Fails().Within(TimeSpan.FromSeconds(1))
                .Expect.Link("eth0", state: "DOWN").In("h2"), Ct));

            Assert.StartsWith("2 lab expectations failed", failure.Message);
            Assert.Contains("expected: ping from h1 to 10.0.2.10 fails", failure.Message);
            Assert.Matches(@"observed: 2 sent, [12] received", failure.Message); // answered: the ping did not fail
            Assert.Contains("expected: eth0 present in netns h2: state DOWN", failure.Message);
            Assert.Contains("observed: state UP", failure.Message);
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    /// <summary>
    /// The runner's own report of a wrong expectation: runs <see cref="WrongOnPurpose"/> (explicit, so never part of
    /// a normal run) in a test runner of its own, and reads what a user would read.
    /// </summary>
    [LabFact]
    public async Task The_test_runner_reports_a_wrong_expectation_as_a_failed_test_with_expected_and_observed()
    {
        var method = $"{typeof(WrongOnPurpose).FullName}.{nameof(WrongOnPurpose.A_ping_across_a_router_that_does_not_forward_succeeds)}";
        var info = new ProcessStartInfo("dotnet", [typeof(WrongOnPurpose).Assembly.Location, "-method", method, "-explicit", "only", "-noColor", "-noLogo"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var runner = Process.Start(info)!;
        var stdout = runner.StandardOutput.ReadToEndAsync(Ct);
        var stderr = runner.StandardError.ReadToEndAsync(Ct);
        await runner.WaitForExitAsync(Ct);
        var output = await stdout + await stderr;

        Assert.True(runner.ExitCode == 1, $"exit {runner.ExitCode}\n{output}");
        Assert.Contains("[FAIL]", output);
        Assert.Contains("expected: ping from h1 to 10.0.2.10 succeeds", output);
        Assert.Contains("observed: 1 sent, 0 received (100% packet loss)", output);
        Assert.Matches(@"Total: 1, Errors: 0, Failed: 1, Skipped: 0", output);
        Assert.Contains("nothing of the lab is left on the host", output); // the lab's transcript, teardown included
    }

    private sealed class RouterFixtureForThisTest : LabFixture
    {
        protected override Scenario CreateScenario() => RouterLab.Define(ipForward: "1").Build();
    }

    private static string LabIdOf(string transcript) =>
        System.Text.RegularExpressions.Regex.Match(transcript, @"ip netns add lr-([0-9a-f]{6})\b").Groups[1].Value;
}

/// <summary>
/// Wrong on purpose, to be seen failing: the router does not forward, yet the test expects a ping across it to
/// succeed. Explicit: only a run that asks for it (as the spec above does) runs it.
/// </summary>
public sealed class WrongOnPurpose
{
    [LabFact(Explicit = true)]
    public async Task A_ping_across_a_router_that_does_not_forward_succeeds()
    {
        var lab = new NoForwardingRouter();
        await lab.InitializeAsync();
        try
        {
            await lab.ExpectAsync(e => e.Ping(from: "h1", to: RouterLab.B.HostIp).Within(TimeSpan.FromSeconds(1)), TestContext.Current.CancellationToken);
        }
        finally
        {
            await lab.DisposeAsync();
        }
    }

    private sealed class NoForwardingRouter : LabFixture
    {
        protected override Scenario CreateScenario() => RouterLab.Define(ipForward: "0").Build();
    }
}
