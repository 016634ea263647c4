namespace RegressionSuite;

/// <summary>
/// A lab of this suite's own, in C#: two namespaces, left and right, joined by a veth pair, 10.9.0.0/24. Built once
/// for <see cref="TwoNamespacesSpecs"/> (every step's expectations are checked while it is built) and torn down
/// after them; a teardown that leaves anything fails the run.
/// </summary>
public sealed class TwoNamespacesLab : LabFixture
{
    public const string LeftIp = "10.9.0.1";
    public const string RightIp = "10.9.0.2";

    protected override Scenario CreateScenario() => Lab.Named("two-namespaces")
        .Step("Two namespaces", s => s
            .Netns("left")
            .Netns("right")
            .Expect.Netns("left")
            .Expect.Netns("right"))
        .Step("A veth pair between them, addressed and up", s => s
            .Veth("l-eth0", "r-eth0", peerIn: "right")
            .MoveLink("l-eth0", to: "left", up: true)
            .LinkUp("r-eth0").In("right")
            .Address("l-eth0", $"{LeftIp}/24").In("left")
            .Address("r-eth0", $"{RightIp}/24").In("right")
            .Expect.Ping(from: "left", to: RightIp))
        .Build();
}

public sealed class TwoNamespacesSpecs(TwoNamespacesLab lab) : IClassFixture<TwoNamespacesLab>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [LabFact]
    public async Task Each_side_reaches_the_other() =>
        await lab.ExpectAsync(e => e
            .Ping(from: "left", to: TwoNamespacesLab.RightIp)
            .Expect.Ping(from: "right", to: TwoNamespacesLab.LeftIp), Ct);

    [LabFact]
    public async Task With_one_end_down_the_ping_fails_and_comes_back_when_it_is_up()
    {
        await lab.RunStepAsync("right's end goes down", s => s
            .LinkDown("r-eth0").In("right")
            .Expect.Ping(from: "left", to: TwoNamespacesLab.RightIp).Fails(), Ct);
        await lab.RunStepAsync("and up again", s => s
            .LinkUp("r-eth0").In("right")
            .Expect.Ping(from: "left", to: TwoNamespacesLab.RightIp), Ct);
    }
}
