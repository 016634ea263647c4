using LabRunner.Tests.Unit.Infrastructure;
using Xunit.Sdk;

namespace LabRunner.Tests.Unit;

/// <summary>The golden-file helper itself: it must never pass by writing what it compares against.</summary>
public sealed class GoldenFileSpecs
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void A_matching_golden_file_passes_and_a_stale_received_file_is_removed()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("x.plan.txt"), "a\nb\n");
        File.WriteAllText(dir.File("x.plan.received.txt"), "old\n");

        Golden.Verify(dir.Path, "x.plan.txt", "a\nb\n", Env());

        Assert.False(File.Exists(dir.File("x.plan.received.txt")));
    }

    [Fact]
    public void Line_endings_do_not_count()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("x.plan.txt"), "a\r\nb\r\n");

        Golden.Verify(dir.Path, "x.plan.txt", "a\nb", Env());
    }

    [Fact]
    public void A_different_output_fails_with_the_first_difference_and_is_written_beside_the_golden_file()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("x.plan.txt"), "a\nb\nc\n");

        var e = Assert.ThrowsAny<XunitException>(() => Golden.Verify(dir.Path, "x.plan.txt", "a\nB\nc\n", Env()));

        Assert.Contains("first at line 2:", e.Message);
        Assert.Contains("golden:   b", e.Message);
        Assert.Contains("received: B", e.Message);
        Assert.Equal("a\nB\nc\n", File.ReadAllText(dir.File("x.plan.received.txt")));
        Assert.Equal("a\nb\nc\n", File.ReadAllText(dir.File("x.plan.txt")));
    }

    [Fact]
    public void A_missing_golden_file_fails_and_is_not_created()
    {
        using var dir = new TempDirectory();

        var e = Assert.ThrowsAny<XunitException>(() => Golden.Verify(dir.Path, "x.plan.txt", "a\n", Env()));

        Assert.Contains("is missing", e.Message);
        Assert.Contains(Golden.AcceptVariable + "=1", e.Message);
        Assert.False(File.Exists(dir.File("x.plan.txt")));
        Assert.Equal("a\n", File.ReadAllText(dir.File("x.plan.received.txt")));
    }

    [Fact]
    public void In_CI_a_missing_golden_file_fails_and_is_never_created_even_when_accepting()
    {
        using var dir = new TempDirectory();

        var e = Assert.ThrowsAny<XunitException>(() =>
            Golden.Verify(dir.Path, "x.plan.txt", "a\n", Env(("CI", "true"), (Golden.AcceptVariable, "1"))));

        Assert.Contains("CI never creates one", e.Message);
        Assert.False(File.Exists(dir.File("x.plan.txt")));
    }

    [Fact]
    public void In_CI_a_different_output_fails_even_when_accepting()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("x.plan.txt"), "a\n");

        Assert.ThrowsAny<XunitException>(() =>
            Golden.Verify(dir.Path, "x.plan.txt", "b\n", Env(("CI", "1"), (Golden.AcceptVariable, "1"))));

        Assert.Equal("a\n", File.ReadAllText(dir.File("x.plan.txt")));
    }

    [Fact]
    public void Accepting_writes_the_output_as_the_golden_file()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("x.plan.txt"), "old\n");
        File.WriteAllText(dir.File("x.plan.received.txt"), "new\n");

        Golden.Verify(dir.Path, "x.plan.txt", "new", Env((Golden.AcceptVariable, "1")));

        Assert.Equal("new\n", File.ReadAllText(dir.File("x.plan.txt")));
        Assert.False(File.Exists(dir.File("x.plan.received.txt")));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("true")]
    [InlineData("")]
    public void Only_the_value_1_accepts(string value)
    {
        using var dir = new TempDirectory();

        Assert.ThrowsAny<XunitException>(() => Golden.Verify(dir.Path, "x.plan.txt", "a\n", Env((Golden.AcceptVariable, value))));

        Assert.False(File.Exists(dir.File("x.plan.txt")));
    }

    [Fact]
    public void The_received_file_sits_beside_the_golden_file()
    {
        Assert.Equal(Path.Combine("/g", "article.plan.received.txt"), Golden.ReceivedPath(Path.Combine("/g", "article.plan.txt")));
    }

    [Fact]
    public void The_golden_directory_is_in_the_source_tree_not_in_bin()
    {
        Assert.Equal(Path.Combine(Repo.Root, "tests", "LabRunner.Tests.Unit", "Golden"), Golden.Directory);
        Assert.True(File.Exists(Path.Combine(Golden.Directory, "article.plan.txt")));
    }
}
