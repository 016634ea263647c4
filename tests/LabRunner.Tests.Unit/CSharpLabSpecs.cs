using System.Runtime.CompilerServices;
using System.Text.Json;
using LabRunner.Authoring;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Scripting;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// C# labs: the fluent API builds the same model as YAML (so the same plan), checks it the same way, and points
/// every error at the line of the C# that wrote it.
/// </summary>
public sealed class CSharpLabSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static int LineHere([CallerLineNumber] int line = 0) => line;

    // ---------- the article, both ways ----------

    [Fact]
    public async Task The_plan_of_article_csx_is_the_plan_of_article_yaml_command_for_command()
    {
        using var state = new TempDirectory();
        var yaml = await Plan.MakeAsync(ScenarioLoader.LoadFile(Repo.Article("article.yaml")), state.Path, Ct);
        var csx = await Plan.MakeAsync(await LabScript.LoadFileAsync(Repo.Article("article.csx"), Ct), state.Path, Ct);

        Assert.Equal(yaml.Commands.Select(c => $"{c.Purpose} {c.Display}"), csx.Commands.Select(c => $"{c.Purpose} {c.Display}"));
        Assert.Equal(
            yaml.Events.OfType<PlanExpectation>().Select(e => e.Result.Expected),
            csx.Events.OfType<PlanExpectation>().Select(e => e.Result.Expected));
        Assert.Equal(yaml.ToText(), csx.ToText()); // titles, must-fail errors and teardown too
        Golden.Verify("article.plan.txt", csx.ToText());
    }

    [Fact]
    public async Task Article_csx_and_article_yaml_build_the_same_model_but_for_where_each_element_was_written()
    {
        var yaml = ScenarioLoader.LoadFile(Repo.Article("article.yaml"));
        var csx = await LabScript.LoadFileAsync(Repo.Article("article.csx"), Ct);

        Assert.Equal(yaml.Name, csx.Name);
        Assert.Equal(yaml.Description?.Trim(), csx.Description?.Trim());
        Assert.Equal(yaml.Uplink, csx.Uplink);
        Assert.Equal(yaml.Steps.Length, csx.Steps.Length);
        for (var i = 0; i < yaml.Steps.Length; i++)
        {
            Assert.Equal(yaml.Steps[i].Title, csx.Steps[i].Title);
            Assert.Equal(yaml.Steps[i].Text?.Trim(), csx.Steps[i].Text?.Trim());
            Assert.Equal(yaml.Steps[i].Actions.Select(Dump), csx.Steps[i].Actions.Select(Dump));
            Assert.Equal(yaml.Steps[i].Expectations.Select(Dump), csx.Steps[i].Expectations.Select(Dump));
        }
    }

    /// <summary>Every .csx of the curriculum, by file name: each has a YAML twin beside it.</summary>
    public static TheoryData<string> CurriculumScripts() =>
        [.. Directory.GetFiles(Path.Combine(Repo.Root, "scenarios", "curriculum"), "*.csx").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(CurriculumScripts))]
    public async Task A_curriculum_csx_builds_the_model_and_the_plan_of_its_yaml_twin(string script)
    {
        var folder = Path.Combine(Repo.Root, "scenarios", "curriculum");
        var yaml = ScenarioLoader.LoadFile(Path.Combine(folder, Path.ChangeExtension(script, ".yaml")));
        var csx = await LabScript.LoadFileAsync(Path.Combine(folder, script), Ct);

        Assert.Equal((yaml.Name, yaml.Description?.Trim(), yaml.Uplink, yaml.Steps.Length), (csx.Name, csx.Description?.Trim(), csx.Uplink, csx.Steps.Length));
        for (var i = 0; i < yaml.Steps.Length; i++)
        {
            Assert.Equal(yaml.Steps[i].Title, csx.Steps[i].Title);
            Assert.Equal(yaml.Steps[i].Text?.Trim(), csx.Steps[i].Text?.Trim());
            Assert.Equal(yaml.Steps[i].Actions.Select(Dump), csx.Steps[i].Actions.Select(Dump));
            Assert.Equal(yaml.Steps[i].Expectations.Select(Dump), csx.Steps[i].Expectations.Select(Dump));
        }
        using var state = new TempDirectory();
        Assert.Equal((await Plan.MakeAsync(yaml, state.Path, Ct)).ToText(), (await Plan.MakeAsync(csx, state.Path, Ct)).ToText());
    }

    [Fact]
    public async Task Each_element_of_article_csx_points_at_its_line_in_the_script()
    {
        var path = Repo.Article("article.csx");
        var lines = await File.ReadAllLinesAsync(path, Ct);
        var csx = await LabScript.LoadFileAsync(path, Ct);

        var veth = csx.Steps.Single(s => s.Title.StartsWith("1.4", StringComparison.Ordinal)).Actions.Single();
        Assert.Equal(path, veth.Span.File);
        Assert.Equal(1, veth.Span.Column);
        Assert.Contains(".Veth(\"veth-3\", \"veth-1\").FailsWith(\"RTNETLINK answers: File exists\")", lines[veth.Span.Line - 1]);
        var ping = csx.Steps.SelectMany(s => s.Expectations).OfType<PingExpectation>().Single(p => !p.Succeeds);
        Assert.Contains(".Expect.Ping(from: \"busybox-2\", to: \"172.16.100.101\").Fails()", lines[ping.Span.Line - 1]);
        var step = csx.Steps.Single(s => s.Title == "3.3 busybox-2 reaches br-0");
        Assert.Contains(".Step(\"3.3 busybox-2 reaches br-0\"", lines[step.Span.Line - 1]);
    }

    /// <summary>A model record as JSON with its source position left out: equal JSON, equal meaning.</summary>
    private static string Dump(object record) => ModelJson.WithoutSpans(record);

    // ---------- the builder ----------

    [Fact]
    public void Builders_are_immutable_each_call_returns_a_new_one()
    {
        var empty = Lab.Named("x");
        var one = empty.Step("a", s => s.Netns("n1"));
        var two = one.Step("b", s => s.Netns("n2"));

        Assert.Equal(0, empty.StepCount);
        Assert.Equal(1, one.StepCount);
        Assert.Equal(2, two.StepCount);
        var step = Lab.Step("s");
        var withNetns = step.Netns("n1");
        var withExpectation = withNetns.Expect.Netns("n1");
        Assert.NotSame(step, withNetns);
        Assert.Single(Lab.Named("y").Step(withNetns).Build().Steps[0].Actions);
        Assert.Empty(Lab.Named("y").Step(withNetns).Build().Steps[0].Expectations);
        Assert.Single(Lab.Named("y").Step(withExpectation).Build().Steps[0].Expectations);
    }

    [Fact]
    public void Defaults_are_those_of_YAML()
    {
        var scenario = Lab.Named("defaults")
            .Step("s", s => s
                .Container("c1")
                .IptablesPolicy("FORWARD", "DROP")
                .Expect.Ping(from: "c1", to: "10.0.0.1")
                .Expect.Ping(from: "c1", to: "10.0.0.2").Fails()
                .Expect.Ping(from: "c1", to: "10.0.0.3").Fails().Count(3).Within(TimeSpan.FromSeconds(2))
                .Expect.Command(["true"])
                .Expect.Command(["echo", "x"], outputContains: "x"))
            .Build();
        var yaml = Scenarios.Load("""
            lab: defaults
            steps:
              - title: s
                actions:
                  - container-run: c1
                  - iptables-policy: { chain: FORWARD, policy: DROP }
                expect:
                  - ping: { from: c1, to: 10.0.0.1 }
                  - ping: { from: c1, to: 10.0.0.2, succeeds: false }
                  - ping: { from: c1, to: 10.0.0.3, succeeds: false, count: 3, within: 2s }
                  - command: { argv: ["true"] }
                  - command: { argv: [echo, x], output-contains: x }
            """);

        Assert.Equal(yaml.Uplink, scenario.Uplink);
        Assert.Equal(yaml.Steps[0].Actions.Select(Dump), scenario.Steps[0].Actions.Select(Dump));
        Assert.Equal(yaml.Steps[0].Expectations.Select(Dump), scenario.Steps[0].Expectations.Select(Dump));
        var pings = scenario.Steps[0].Expectations.OfType<PingExpectation>().ToList();
        Assert.Equal([1, 2, 3], pings.Select(p => p.Count));
        Assert.Equal(TimeSpan.FromSeconds(2), pings[2].Within);
        Assert.Equal(Expectation.DefaultWithin, pings[0].Within);
    }

    [Fact]
    public void A_lab_can_go_on_from_a_YAML_scenario_and_use_its_names()
    {
        var yaml = ScenarioLoader.LoadFile(Repo.Article("01-veth-bridge.yaml"));

        var extended = Lab.From(yaml).Step("one more", s => s.Expect.Link("veth-2", state: "UP").In("n1")).Build();

        Assert.Equal(yaml.Steps.Length + 1, extended.Steps.Length);
        Assert.Equal(Place.Netns("n1"), ((LinkExpectation)extended.Steps[^1].Expectations[0]).In);
    }

    // ---------- errors point at the C# line that wrote them ----------

    [Fact]
    public void A_bad_value_is_reported_at_the_line_of_the_builder_call_in_the_loaders_words()
    {
        var line = LineHere();
        var builder = Lab.Named("bad").Step("s", s => s
            .Netns("n1")
            .Address("veth-1", "172.16.100.300/24")                    // line + 3
            .Veth("a-name-much-too-long", "x"));                        // line + 4

        var errors = Assert.Throws<ScenarioInvalidException>(() => builder.Build()).Errors;

        Assert.Equal(2, errors.Length);
        Assert.Equal($"{ThisFile()}:{line + 3}:1", errors[0].Span.ToString());
        Assert.Equal("'172.16.100.300' is not an IPv4 address", errors[0].Message);
        Assert.Equal(line + 4, errors[1].Span.Line);
        Assert.Equal("interface name 'a-name-much-too-long' is 20 bytes; Linux allows at most 15", errors[1].Message);
        Assert.StartsWith($"{ThisFile()}:{line + 3}:1: error: '172.16.100.300' is not an IPv4 address", errors[0].ToString());
    }

    [Fact]
    public void Flow_errors_come_from_the_same_validator_as_YAMLs_at_the_C_sharp_line()
    {
        var line = LineHere();
        var builder = Lab.Named("flow")
            .Step("one", s => s
                .Veth("veth-1", "veth-2")
                .Attach("br-0", "veth-1"))                              // line + 4: no such bridge yet
            .Step("two", s => s
                .Bridge("br-0")
                .Bridge("br-0"));                                       // line + 7: already exists

        var errors = Assert.Throws<ScenarioInvalidException>(() => builder.Build()).Errors;

        Assert.Collection(errors,
            e =>
            {
                Assert.Equal(line + 4, e.Span.Line);
                Assert.Equal("link 'br-0' does not exist in host at this point", e.Message);
            },
            e =>
            {
                Assert.Equal(line + 7, e.Span.Line);
                Assert.Equal("link 'br-0' already exists in host", e.Message);
            });
    }

    [Fact]
    public void An_unknown_place_is_reported_where_In_names_it_with_the_nearest_name_as_hint()
    {
        var line = LineHere();
        var builder = Lab.Named("places").Step("s", s => s
            .Netns("router")
            .Sysctl("net.ipv4.ip_forward", "1")
                .In("ruoter"));                                         // line + 4

        var error = Assert.Single(Assert.Throws<ScenarioInvalidException>(() => builder.Build()).Errors);

        Assert.Equal(line + 4, error.Span.Line);
        Assert.Equal("unknown netns or container 'ruoter': no action of this lab creates it", error.Message);
        Assert.Equal("did you mean 'router'?", error.Hint);
    }

    [Fact]
    public void In_on_an_action_without_a_place_is_an_error_not_ignored()
    {
        var builder = Lab.Named("x").Step("s", s => s.Netns("n1").Netns("n2").In("n1"));

        var error = Assert.Single(Assert.Throws<ScenarioInvalidException>(() => builder.Build()).Errors);

        Assert.Equal("netns-add has no place: In(\"n1\") does not apply to it", error.Message);
    }

    [Fact]
    public void A_lab_without_steps_or_with_a_bad_count_is_refused()
    {
        Assert.Equal("the lab has no steps", Assert.Single(Assert.Throws<ScenarioInvalidException>(() => Lab.Named("x").Build()).Errors).Message);

        var count = Lab.Named("x").Step("s", s => s.Netns("n1").Expect.Ping(from: "n1", to: "10.0.0.1").Count(0));
        Assert.Equal("'count' must be a whole number from 1 to 20, not '0'", Assert.Single(Assert.Throws<ScenarioInvalidException>(() => count.Build()).Errors).Message);
    }

    private static string ThisFile([CallerFilePath] string file = "") => file;
}

/// <summary>The .csx host: compile errors with their position and code, script exceptions, what a script must return.</summary>
public sealed class LabScriptSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<ScenarioInvalidException> FailsAsync(string code, string file = "lab.csx") =>
        await Assert.ThrowsAsync<ScenarioInvalidException>(() => LabScript.LoadAsync(code, file, Ct));

    [Fact]
    public async Task A_type_error_is_reported_as_file_line_col_error_CS_code()
    {
        var failure = await FailsAsync("""
            var lab = Lab.Named("typo")
                .Step("one", s => s.Netns("n1"));
            int answer = "forty-two";
            return lab;
            """);

        var error = Assert.Single(failure.Errors);
        Assert.Equal("CS0029", error.Code);
        Assert.Equal("lab.csx:3:14: error CS0029: Cannot implicitly convert type 'string' to 'int'", error.ToString());
    }

    [Fact]
    public async Task Every_compile_error_is_reported_in_source_order()
    {
        const string code = """
            return Lab.Named("x")
                .Step("one", s => s.Netns("n1").Sysctl("net.ipv4.ip_forward", 1))
                .Step("two", s => s.Bridg("br-0"));
            """;
        var lines = code.Split('\n');

        var failure = await FailsAsync(code);

        Assert.Collection(failure.Errors,
            e => Assert.Equal($"lab.csx:2:{lines[1].IndexOf(", 1)", StringComparison.Ordinal) + 3}: error CS1503", e.ToString()[..e.ToString().IndexOf(": Arg", StringComparison.Ordinal)]),
            e => Assert.StartsWith($"lab.csx:3:{lines[2].IndexOf("Bridg", StringComparison.Ordinal) + 1}: error CS1061: 'StepBuilder' does not contain a definition for 'Bridg'", e.ToString()));
    }

    [Fact]
    public async Task An_exception_thrown_by_the_script_points_at_its_line()
    {
        var failure = await FailsAsync("""
            var names = new List<string>();

            var first = names[0];
            return Lab.Named(first);
            """);

        var error = Assert.Single(failure.Errors);
        Assert.Equal(3, error.Span.Line);
        Assert.StartsWith("the script threw ArgumentOutOfRangeException", error.Message);
    }

    [Fact]
    public async Task A_script_that_returns_no_lab_is_told_how_to_end()
    {
        var failure = await FailsAsync("var lab = Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));\n");

        var error = Assert.Single(failure.Errors);
        Assert.Equal("lab.csx:1:1", error.Span.ToString());
        Assert.Equal("the script returned no lab", error.Message);
        Assert.Contains("return lab;", error.Hint);
    }

    [Fact]
    public async Task A_script_may_end_with_the_lab_as_its_last_expression_or_return_a_built_scenario()
    {
        var expression = await LabScript.LoadAsync("Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"))", "lab.csx", Ct);
        var built = await LabScript.LoadAsync("return Lab.Named(\"y\").Step(\"s\", s => s.Netns(\"n1\")).Build();", "lab.csx", Ct);

        Assert.Equal("x", expression.Name);
        Assert.Equal("y", built.Name);
    }

    [Fact]
    public async Task An_invalid_lab_is_reported_at_the_scripts_line()
    {
        var failure = await FailsAsync("""
            return Lab.Named("x")
                .Step("one", s => s
                    .Netns("n1")
                    .Address("eth0", "10.0.0.1").In("n1"));
            """);

        var error = Assert.Single(failure.Errors);
        Assert.Equal("lab.csx:4:1", error.Span.ToString());
        Assert.Equal("'10.0.0.1' needs a prefix length, e.g. 10.0.0.1/24", error.Message);
    }

    [Fact]
    public async Task File_based_app_directives_are_accepted_and_lines_keep_their_numbers()
    {
        var scenario = await LabScript.LoadAsync("""
            #:project ../../src/LabRunner.Core/LabRunner.Core.csproj
            #:property Nullable=enable
            return Lab.Named("x")
                .Step("one", s => s.Netns("n1"));
            """, "lab.csx", Ct);

        Assert.Equal(4, scenario.Steps[0].Actions[0].Span.Line);
    }

    [Fact]
    public async Task The_CLI_loader_picks_the_language_by_extension()
    {
        using var temp = new TempDirectory();
        var csx = temp.File("lab.csx");
        await File.WriteAllTextAsync(csx, "return Lab.Named(\"from-csx\").Step(\"s\", s => s.Netns(\"n1\"));", Ct);

        Assert.Equal("from-csx", LabFiles.Load(csx).Name);
        Assert.Equal("article", LabFiles.Load(Repo.Article("article.yaml")).Name);
        Assert.True(LabFiles.IsScript("x.CSX"));
        Assert.False(LabFiles.IsScript("x.yaml"));
    }

    [Fact]
    public async Task A_missing_script_is_an_error_with_its_path()
    {
        var failure = await Assert.ThrowsAsync<ScenarioInvalidException>(() => LabScript.LoadFileAsync("/nonexistent/lab.csx", Ct));

        Assert.Equal("/nonexistent/lab.csx: error: no such file: /nonexistent/lab.csx" + Environment.NewLine + "    hint: check the path", failure.Errors[0].ToString());
    }

    private const string EndsWithALab = "\nreturn Lab.Named(\"x\").Step(\"s\", s => s.Netns(\"n1\"));\n";

    public static TheoryData<string, int, int> Recursions() => new()
    {
        { "int Down(int n) => Down(n + 1) + 1;\nDown(0);", 1, 20 },                                   // expression-bodied local function
        { "int Down(int n)\n{\n    return Down(n + 1) + 1;\n}\nDown(0);", 2, 2 },                   // block body
        { "Func<int, int> down = null!;\ndown = n => down(n + 1) + 1;\ndown(0);", 2, 13 },              // expression lambda
        { "Action<int> down = null!;\ndown = n => down(n + 1);\ndown(0);", 2, 13 },                     // a lambda that returns nothing
        { "class Deep { public int Value => new Deep().Value; }\nvar v = new Deep().Value;", 1, 34 },    // property
        { "class Deep { public int Value { get { return new Deep().Value; } } }\nvar v = new Deep().Value;", 1, 39 }, // accessor
    };

    /// <summary>Today a stack overflow kills the whole process (exit 134), whatever catches what.</summary>
    [Theory]
    [MemberData(nameof(Recursions))]
    public async Task A_recursion_without_end_is_an_error_at_the_recursing_function_not_a_dead_process(string code, int line, int column)
    {
        var error = Assert.Single((await FailsAsync(code + EndsWithALab)).Errors);

        Assert.Equal("the script recursed too deeply: it would have overflowed the stack", error.Message);
        Assert.Equal($"lab.csx:{line}:{column}", error.Span.ToString());
    }

    /// <summary>
    /// Two functions calling each other: the error is at whichever of them meets the stack's limit, and which one does
    /// depends on their frame sizes, which the JIT's tiers change from run to run (one run in many saw Pong, not Ping).
    /// </summary>
    [Fact]
    public async Task A_mutual_recursion_without_end_is_an_error_at_one_of_the_two_functions()
    {
        var error = Assert.Single((await FailsAsync("void Ping(int n) => Pong(n);\nvoid Pong(int n) => Ping(n);\nPing(0);" + EndsWithALab)).Errors);

        Assert.Equal("the script recursed too deeply: it would have overflowed the stack", error.Message);
        Assert.Contains(error.Span.ToString(), new[] { "lab.csx:1:21", "lab.csx:2:21" });
    }

    /// <summary>A liveness bound, not a speed one: a script that escaped its timeout would never return, and fails the test here.</summary>
    private static readonly TimeSpan Liveness = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_loop_without_end_stops_at_the_timeout_at_the_looping_line()
    {
        var failure = await Assert.ThrowsAsync<ScenarioInvalidException>(() =>
            LabScript.LoadAsync("var n = 0;\nfor (;;) n++;" + EndsWithALab, "lab.csx", TimeSpan.FromMilliseconds(300), Ct).WaitAsync(Liveness, Ct));

        var error = Assert.Single(failure.Errors);
        Assert.Equal("the script did not finish within 0.3 s (--script-timeout)", error.Message);
        Assert.Equal("lab.csx:2:10", error.Span.ToString());
    }

    [Fact]
    public async Task A_script_blocked_in_a_call_is_abandoned_a_moment_after_its_timeout()
    {
        var failure = await Assert.ThrowsAsync<ScenarioInvalidException>(() =>
            LabScript.LoadAsync("System.Threading.Thread.Sleep(-1);" + EndsWithALab, "lab.csx", TimeSpan.FromMilliseconds(300), Ct).WaitAsync(Liveness, Ct));

        Assert.Equal("the script did not finish within 0.3 s (--script-timeout)", Assert.Single(failure.Errors).Message);
    }

    [Fact]
    public async Task Guarded_scripts_build_the_same_lab_and_keep_their_lines_and_columns()
    {
        var scenario = await LabScript.LoadAsync("""
            int Twice(int n) => 2 * n;
            string Name(int i) { return $"n{i}"; }
            var names = Enumerable.Range(1, Twice(1)).Select(i => Name(i)).ToList();
            foreach (var name in names) { }
            async System.Threading.Tasks.Task<int> Later() => await System.Threading.Tasks.Task.FromResult(1);
            var later = await Later();
            Func<System.Threading.Tasks.Task> nothing = async () => await System.Threading.Tasks.Task.Yield();
            await nothing();
            return Lab.Named("x").Step("s", s => { var b = s; foreach (var n in names) b = b.Netns(n); return b; }).Step("t", s => s.Netns("n9"));
            """, "lab.csx", Ct);

        Assert.Equal(["n1", "n2", "n9"], scenario.AllActions.OfType<NetnsAdd>().Select(a => a.Name));
        Assert.Equal(9, scenario.Steps[0].Actions[0].Span.Line);

        var failure = await FailsAsync("var f = (Func<int, int>)(n => Check(n));\nint Check(int n) => 1 / (n - n);\nf(1);" + EndsWithALab);
        Assert.Equal("lab.csx:2:21", Assert.Single(failure.Errors).Span.ToString()); // the division, as written
    }

    [Fact]
    public void YAML_errors_keep_their_format_without_a_code()
    {
        var error = new ScenarioError(new SourceSpan("lab.yaml", 3, 5), "bad");

        Assert.Equal("lab.yaml:3:5: error: bad", error.ToString());
        Assert.Equal("lab.csx:3:5: error CS1002: ; expected", new ScenarioError(new SourceSpan("lab.csx", 3, 5), "; expected") { Code = "CS1002" }.ToString());
    }
}
