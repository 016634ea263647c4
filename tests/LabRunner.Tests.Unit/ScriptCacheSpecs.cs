using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Scripting;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The compile cache of C# labs (<see cref="ScriptCache"/>): a second run of an unchanged script comes from the cache
/// and builds the same lab, with the same guards and error positions; anything the compiled code depends on changing
/// (the script, a file it #loads) compiles it again; a damaged entry or an unusable directory is only a slower run.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // file modes
public sealed class ScriptCacheSpecs : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly TempDirectory _temp = new();

    private string CacheDir => _temp.File("cache");

    public void Dispose() => _temp.Dispose();

    private async Task<string> WriteAsync(string name, string text)
    {
        var path = _temp.File(name);
        await File.WriteAllTextAsync(path, text, Ct);
        return path;
    }

    private Task<Scenario> LoadAsync(string path, ScriptCache cache, TimeSpan? timeout = null) =>
        LabScript.LoadFileAsync(path, timeout ?? LabScript.DefaultTimeout, cache, Ct);

    private string[] Entries() => Directory.Exists(CacheDir) ? Directory.GetFiles(CacheDir, "*.lrcsx") : [];

    [Fact]
    public async Task The_second_run_of_a_script_comes_from_the_cache_and_builds_the_same_lab()
    {
        var lab = await WriteAsync("lab.csx", "var names = new[] { \"n1\", \"n2\" };\nreturn Lab.Named(\"x\").Step(\"s\", s => s.Netns(names[0]).Netns(names[1]));");
        var cache = new ScriptCache(CacheDir);

        var first = await LoadAsync(lab, cache);
        var second = await LoadAsync(lab, cache);

        Assert.Equal((1, 1), (cache.Hits, cache.Stores));
        Assert.Equal(first, second);
        Assert.Single(Entries());
    }

    [Fact]
    public async Task A_cached_run_of_the_article_plans_exactly_as_the_yaml_does()
    {
        var cache = new ScriptCache(CacheDir);
        await LabScript.LoadFileAsync(Repo.Article("article.csx"), LabScript.DefaultTimeout, cache, Ct);
        var cached = await LabScript.LoadFileAsync(Repo.Article("article.csx"), LabScript.DefaultTimeout, cache, Ct);
        using var state = new TempDirectory();

        var yaml = await Plan.MakeAsync(ScenarioLoader.LoadFile(Repo.Article("article.yaml")), state.Path, Ct);
        var csx = await Plan.MakeAsync(cached, state.Path, Ct);

        Assert.Equal(1, cache.Hits);
        Assert.Equal(yaml.Commands.Select(c => $"{c.Purpose} {c.Display}"), csx.Commands.Select(c => $"{c.Purpose} {c.Display}"));
    }

    [Fact]
    public async Task A_changed_script_is_compiled_again_and_its_new_lab_is_built()
    {
        var lab = await WriteAsync("lab.csx", "return Lab.Named(\"before\").Step(\"s\", s => s.Netns(\"n1\"));");
        var cache = new ScriptCache(CacheDir);
        await LoadAsync(lab, cache);

        await File.WriteAllTextAsync(lab, "return Lab.Named(\"after\").Step(\"s\", s => s.Netns(\"n1\"));", Ct);
        var changed = await LoadAsync(lab, cache);

        Assert.Equal("after", changed.Name);
        Assert.Equal((0, 2), (cache.Hits, cache.Stores));
    }

    [Fact]
    public async Task A_change_in_a_loaded_file_is_a_change_of_the_script()
    {
        var helpers = await WriteAsync("helpers.csx", "const string Name = \"one\";");
        var lab = await WriteAsync("lab.csx", "#load \"helpers.csx\"\nreturn Lab.Named(Name).Step(\"s\", s => s.Netns(\"n1\"));");
        var cache = new ScriptCache(CacheDir);
        Assert.Equal("one", (await LoadAsync(lab, cache)).Name);

        await File.WriteAllTextAsync(helpers, "const string Name = \"two\";", Ct);

        Assert.Equal("two", (await LoadAsync(lab, cache)).Name);
        Assert.Equal(0, cache.Hits);
        Assert.Equal("two", (await LoadAsync(lab, cache)).Name);
        Assert.Equal(1, cache.Hits);
    }

    [Fact]
    public async Task The_same_text_at_another_path_is_another_entry_since_the_path_is_compiled_into_its_positions()
    {
        const string Code = "return Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));";
        var a = await WriteAsync("a.csx", Code);
        var b = await WriteAsync("b.csx", Code);
        var cache = new ScriptCache(CacheDir);

        var fromA = await LoadAsync(a, cache);
        var fromB = await LoadAsync(b, cache);

        Assert.Equal(0, cache.Hits);
        Assert.Equal(b, fromB.Steps[0].Actions[0].Span.File);
        Assert.Equal(a, fromA.Steps[0].Actions[0].Span.File);
    }

    [Fact]
    public async Task A_script_run_from_the_cache_reports_its_errors_at_the_same_line_and_column()
    {
        var lab = await WriteAsync("lab.csx", "var n = 0;\nint Down(int n) => Down(n + 1) + 1;\nDown(0);\nreturn Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));");
        var cache = new ScriptCache(CacheDir);

        var first = await Assert.ThrowsAsync<ScenarioInvalidException>(() => LoadAsync(lab, cache));
        var second = await Assert.ThrowsAsync<ScenarioInvalidException>(() => LoadAsync(lab, cache));

        Assert.Equal(1, cache.Hits);
        Assert.Equal($"{lab}:2:20", Assert.Single(second.Errors).Span.ToString());
        Assert.Equal(first.Errors[0].ToString(), second.Errors[0].ToString());
    }

    [Fact]
    public async Task A_script_run_from_the_cache_still_stops_at_its_timeout_at_the_looping_line()
    {
        var lab = await WriteAsync("lab.csx", "var n = 0;\nfor (;;) n++;\nreturn Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));");
        var cache = new ScriptCache(CacheDir);
        await Assert.ThrowsAsync<ScenarioInvalidException>(() => LoadAsync(lab, cache, TimeSpan.FromMilliseconds(300)).WaitAsync(TimeSpan.FromMinutes(2), Ct));

        var cached = await Assert.ThrowsAsync<ScenarioInvalidException>(() => LoadAsync(lab, cache, TimeSpan.FromMilliseconds(300)).WaitAsync(TimeSpan.FromMinutes(2), Ct));

        Assert.Equal(1, cache.Hits);
        var error = Assert.Single(cached.Errors);
        Assert.Equal("the script did not finish within 0.3 s (--script-timeout)", error.Message);
        Assert.Equal($"{lab}:2:10", error.Span.ToString());
    }

    [Fact]
    public async Task A_damaged_entry_is_compiled_again_and_replaced()
    {
        var lab = await WriteAsync("lab.csx", "return Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));");
        await LoadAsync(lab, new ScriptCache(CacheDir));
        var entry = Assert.Single(Entries());
        var bytes = await File.ReadAllBytesAsync(entry, Ct);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(entry, bytes, Ct);
        var cache = new ScriptCache(CacheDir);

        Assert.Equal("x", (await LoadAsync(lab, cache)).Name);

        Assert.Equal((0, 1), (cache.Hits, cache.Stores));
        Assert.Equal("x", (await LoadAsync(lab, cache)).Name);
        Assert.Equal(1, cache.Hits);
    }

    [Fact]
    public async Task An_entry_cut_short_is_compiled_again()
    {
        var lab = await WriteAsync("lab.csx", "return Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));");
        await LoadAsync(lab, new ScriptCache(CacheDir));
        var entry = Assert.Single(Entries());
        await File.WriteAllBytesAsync(entry, (await File.ReadAllBytesAsync(entry, Ct))[..100], Ct);
        var cache = new ScriptCache(CacheDir);

        Assert.Equal("x", (await LoadAsync(lab, cache)).Name);
        Assert.Equal((0, 1), (cache.Hits, cache.Stores));
    }

    [Fact]
    public async Task A_script_that_references_an_assembly_is_not_cached()
    {
        var lab = await WriteAsync("lab.csx", "#r \"System.Text.Json\"\nreturn Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));");
        var cache = new ScriptCache(CacheDir);

        Assert.Equal("x", (await LoadAsync(lab, cache)).Name);
        Assert.Equal("x", (await LoadAsync(lab, cache)).Name);

        Assert.Equal((0, 0), (cache.Hits, cache.Stores));
        Assert.Empty(Entries());
    }

    [Fact]
    public async Task A_directory_others_may_write_to_is_not_used()
    {
        Directory.CreateDirectory(CacheDir);
        File.SetUnixFileMode(CacheDir, (UnixFileMode)0b111_111_111); // 0777: anyone could put code there for us to run
        var lab = await WriteAsync("lab.csx", "return Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));");
        var cache = new ScriptCache(CacheDir);

        Assert.Equal("x", (await LoadAsync(lab, cache)).Name);
        Assert.Equal("x", (await LoadAsync(lab, cache)).Name);

        Assert.Equal((0, 0), (cache.Hits, cache.Stores));
        Assert.Empty(Entries());
    }

    [Fact]
    public async Task A_new_cache_directory_is_the_owners_alone()
    {
        var lab = await WriteAsync("lab.csx", "return Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));");

        await LoadAsync(lab, new ScriptCache(CacheDir));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(CacheDir));
    }

    [Fact]
    public async Task At_most_MaxEntries_are_kept_the_least_recently_used_go()
    {
        var cache = new ScriptCache(CacheDir, maxEntries: 2);
        var labs = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            labs.Add(await WriteAsync($"lab{i}.csx", $"return Lab.Named(\"x{i}\").Step(\"s\", s => s.Netns(\"n1\"));"));
            await LoadAsync(labs[i], cache);
            await Task.Delay(20, Ct); // distinct modification times
        }

        Assert.Equal(2, Entries().Length);
        await LoadAsync(labs[2], cache); // the newest is still there
        Assert.Equal(1, cache.Hits);
        await LoadAsync(labs[0], cache); // the oldest went
        Assert.Equal(1, cache.Hits);
    }

    [Theory]
    [InlineData("LABRUNNER_SCRIPT_CACHE=off", null)]
    [InlineData("LABRUNNER_SCRIPT_CACHE=", null)]
    [InlineData("LABRUNNER_SCRIPT_CACHE=/somewhere/csx XDG_CACHE_HOME=/xdg HOME=/root", "/somewhere/csx")]
    [InlineData("XDG_CACHE_HOME=/xdg HOME=/root", "/xdg/labrunner/csx")]
    [InlineData("XDG_CACHE_HOME=relative HOME=/root", "/root/.cache/labrunner/csx")]
    [InlineData("HOME=/root", "/root/.cache/labrunner/csx")]
    [InlineData("", null)]
    public void The_command_lines_cache_is_where_the_environment_says(string environment, string? directory)
    {
        var variables = environment.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => v.Split('=', 2)).ToDictionary(v => v[0], v => v[1]);

        Assert.Equal(directory, ScriptCache.FromEnvironment(variables.GetValueOrDefault)?.Directory);
    }
}
