using LabRunner.Loading;

namespace LabRunner.Tests.Unit;

/// <summary>The "did you mean" of error hints.</summary>
public sealed class SuggestSpecs
{
    [Theory]
    [InlineData("vet-add", "veth-add")]
    [InlineData("expekt", "expect")]
    [InlineData("peer_in", "peer-in")]
    [InlineData("busybox-2", "busybox-1")]
    [InlineData("descripton", "description")]
    public void A_near_miss_suggests_the_nearest_candidate(string word, string nearest) =>
        Assert.Equal(nearest, Suggest.Nearest(word, ["veth-add", "expect", "peer-in", "busybox-1", "description", "netns-add"]));

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("xyz")]
    public void A_word_like_no_candidate_suggests_nothing(string word) =>
        Assert.Null(Suggest.Nearest(word, ["veth-add", "expect", "netns-add"]));

    [Fact]
    public void No_candidates_suggest_nothing() => Assert.Null(Suggest.Nearest("anything", []));
}
