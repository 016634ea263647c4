using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using LabRunner.Kinds;
using LabRunner.Loading;
using LabRunner.Model;

namespace LabRunner.Authoring;

/// <summary>
/// Entry point of the C# authoring API: <c>Lab.Named("article").Step("1.2 A namespace and a veth pair", s => s
/// .Netns("n1").Veth("veth-1", "veth-2").Expect.Netns("n1"))</c>. What it builds is the same immutable
/// <see cref="Scenario"/> the YAML loader produces, checked the same way, and run by the same engine.
/// </summary>
public static class Lab
{
    /// <summary>A new, empty lab called <paramref name="name"/> (YAML <c>lab:</c>), with the article's uplink.</summary>
    public static LabBuilder Named(string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(name, null, null, StepBuilder.At(file, line), []);

    /// <summary>
    /// A lab that goes on from an existing scenario (loaded from YAML, say): its steps come first, and the steps
    /// added here may use the names it creates.
    /// </summary>
    public static LabBuilder From(Scenario scenario) =>
        new(scenario.Name, scenario.Description, scenario.Uplink, scenario.Span, scenario.Steps);

    /// <summary>A step on its own, for helpers and loops; add it to a lab with <see cref="LabBuilder.Step(StepBuilder)"/>.</summary>
    public static StepBuilder Step(string title, string? text = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(new StepState(title, text, StepBuilder.At(file, line), [], []));
}

/// <summary>
/// An immutable lab under construction: every method returns a new builder. <see cref="Build"/> checks it as the
/// YAML loader checks a file (names, addresses, then <see cref="ScenarioValidator"/>'s flow checks) and throws
/// <see cref="ScenarioInvalidException"/> with every error at the file and line of the builder call that wrote it.
/// </summary>
public sealed class LabBuilder
{
    private readonly string _name;
    private readonly string? _description;
    private readonly (Uplink Uplink, SourceSpan Span)? _uplink;
    private readonly Uplink? _baseUplink;
    private readonly SourceSpan _span;
    private readonly ImmutableArray<Step> _baseSteps;
    private readonly ImmutableList<StepState> _steps;

    internal LabBuilder(string name, string? description, Uplink? baseUplink, SourceSpan span, ImmutableArray<Step> baseSteps)
        : this(name, description, null, baseUplink, span, baseSteps, [])
    {
    }

    private LabBuilder(string name, string? description, (Uplink, SourceSpan)? uplink, Uplink? baseUplink, SourceSpan span,
        ImmutableArray<Step> baseSteps, ImmutableList<StepState> steps)
    {
        _name = name;
        _description = description;
        _uplink = uplink;
        _baseUplink = baseUplink;
        _span = span;
        _baseSteps = baseSteps;
        _steps = steps;
    }

    public string Name => _name;

    /// <summary>Steps so far, those of a scenario it goes on from included.</summary>
    public int StepCount => _baseSteps.Length + _steps.Count;

    private LabBuilder With(string? description = null, (Uplink, SourceSpan)? uplink = null, ImmutableList<StepState>? steps = null) =>
        new(_name, description ?? _description, uplink ?? _uplink, _baseUplink, _span, _baseSteps, steps ?? _steps);

    /// <summary>What the lab shows (YAML <c>description:</c>).</summary>
    public LabBuilder WithDescription(string description) => With(description: description);

    /// <summary>
    /// The host's uplink, standing for the article's ens3 192.168.64.6/24 (the default; YAML <c>uplink:</c>). In a
    /// sandbox the engine creates it; with --host it names an existing interface.
    /// </summary>
    public LabBuilder WithUplink(string name, string address, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        With(uplink: (new Uplink(name, address), StepBuilder.At(file, line)));

    /// <summary>Adds a step: <c>.Step("1.5 A bridge", s => s.Bridge("br-0").Expect.Link("br-0", state: "DOWN"))</c>.</summary>
    public LabBuilder Step(string title, Func<StepBuilder, StepBuilder> build, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Step(title, null, build, file, line);

    /// <summary>Adds a step with its narrative (YAML <c>text:</c>), shown to the trainer before its commands.</summary>
    public LabBuilder Step(string title, string? text, Func<StepBuilder, StepBuilder> build, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(build);
        var start = new StepBuilder(new StepState(title, text, StepBuilder.At(file, line), [], []));
        var built = build(start) ?? throw new ArgumentException(
            $"the step \"{title}\" ({start.State.Span}) returned null; return the builder, e.g. s => s.Netns(\"n1\")", nameof(build));
        return With(steps: _steps.Add(built.State));
    }

    /// <summary>Adds a step made with <see cref="Lab.Step"/> (handy in helpers and loops).</summary>
    public LabBuilder Step(StepBuilder step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return With(steps: _steps.Add(step.State));
    }

    /// <summary>Adds several steps in order.</summary>
    public LabBuilder Steps(IEnumerable<StepBuilder> steps) => With(steps: _steps.AddRange(steps.Select(s => s.State)));

    /// <summary>
    /// The scenario, checked as a YAML file is: throws <see cref="ScenarioInvalidException"/> listing every error as
    /// file:line:col (the line of the builder call), before anything could run.
    /// </summary>
    public Scenario Build()
    {
        var names = LabNames.Of([.. _baseSteps.SelectMany(s => s.Actions).Select(a => a.Declares).OfType<Place>(),
            .. _steps.SelectMany(s => s.Actions).Select(Declared).OfType<Place>()]);
        var errors = new ErrorList();
        var uplink = _uplink?.Uplink ?? _baseUplink ?? Uplink.Default;
        if (_uplink is { } u)
        {
            if (Loading.Names.CheckInterface(u.Uplink.Name) is { } why) errors.Add(u.Span, why);
            if (Loading.Names.CheckCidr(u.Uplink.Address) is { } bad) errors.Add(u.Span, bad, "write it as address/prefix, e.g. 172.16.100.1/24");
        }
        if (StepCount == 0)
            errors.Add(_span, "the lab has no steps", "add one: .Step(\"title\", s => s.Netns(\"n1\"))");

        var steps = _baseSteps.ToBuilder();
        foreach (var step in _steps)
        {
            if (string.IsNullOrWhiteSpace(step.Title)) errors.Add(step.Span, "a step needs a title", "e.g. .Step(\"1.2 A namespace and a veth pair\", s => ...)");
            var actions = step.Actions.Select(a => BuildAction(a, errors, names)).OfType<LabAction>().ToImmutableArray();
            var expectations = step.Expectations.Select(e => BuildExpectation(e, errors, names)).OfType<Expectation>().ToImmutableArray();
            steps.Add(new Step(step.Title ?? "(untitled)", step.Text, actions, expectations, step.Span));
        }
        if (errors.Count > 0) throw new ScenarioInvalidException([.. errors.Errors]);

        var scenario = new Scenario(_name, _description, uplink, steps.ToImmutable(), _span);
        var flowErrors = ScenarioValidator.Validate(scenario);
        if (flowErrors.Length > 0) throw new ScenarioInvalidException(flowErrors);
        return scenario;
    }

    /// <summary>The netns or container a drafted action creates, from its name field, before anything is read.</summary>
    private static Place? Declared(EntryDraft draft) =>
        draft.Kind is ActionKind { Declares: { } kind, ShortForm: { } key } && draft.Fields.Entries.FirstOrDefault(e => e.Key == key)?.Value is ScalarValue name
            ? new Place(kind, name.Text)
            : null;

    /// <summary>The kind's own reader over the drafted fields (and 'in', when it has a place): the YAML loader's rules and messages.</summary>
    private static FieldReader Fields(EntryDraft draft, ErrorList errors, LabNames names, ImmutableArray<FieldSpec> declared)
    {
        var fields = draft.Fields;
        if (draft.In is not null)
        {
            if (draft.Kind.TakesPlace) fields = fields.With("in", draft.InSpan ?? draft.Span, new ScalarValue(draft.In, draft.InSpan ?? draft.Span));
            else
                errors.Add(draft.InSpan ?? draft.Span, draft.Kind is ActionKind
                        ? $"{draft.Kind.Keyword} has no place: In(\"{draft.In}\") does not apply to it"
                        : $"the {draft.Kind.Keyword} expectation has no place: In(\"{draft.In}\") does not apply to it",
                    draft.Kind.Keyword == "ping" ? "a ping names its source: Ping(from: ..., to: ...)" : "remove .In(...)");
        }
        if (draft.Within is { } within) fields = fields.With("within", draft.WithinSpan ?? draft.Span, FieldValue.From(within, draft.WithinSpan ?? draft.Span));
        return new FieldReader(fields, errors, names, declared);
    }

    private static LabAction? BuildAction(EntryDraft draft, ErrorList errors, LabNames names)
    {
        var kind = (ActionKind)draft.Kind;
        var reader = Fields(draft, errors, names, kind.Fields);
        if (draft.FailsWith is not null)
        {
            if (draft.FailsWith.Length == 0) errors.Add(draft.FailsWithSpan ?? draft.Span, "FailsWith needs the error text the action must print");
            reader.CheckTemplate(draft.FailsWith, draft.FailsWithSpan ?? draft.Span);
        }
        var action = kind.Read(reader);
        reader.RejectUnknownKeys($"'{kind.Keyword}'");
        return action is null ? null : action with { Span = draft.Span, ExpectedError = draft.FailsWith };
    }

    private static Expectation? BuildExpectation(EntryDraft draft, ErrorList errors, LabNames names)
    {
        var kind = (ExpectationKind)draft.Kind;
        var reader = Fields(draft, errors, names, [.. kind.Fields, CommonFields.Within]);
        var within = reader.Duration("within");
        var expectation = kind.Read(reader);
        reader.RejectUnknownKeys($"'{kind.Keyword}'");
        if (expectation is null) return null;
        expectation = expectation with { Span = draft.Span };
        return within is { } w ? expectation with { Within = w } : expectation;
    }
}
