using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Kinds;
using static LabRunner.Execution.IpJson;

namespace LabRunner.Model;

/// <summary>
/// <c>ip link set dev NAME [mtu N] [address MAC] [txqueuelen N] [alias TEXT]</c> of a link the lab may change; the
/// old values are read first (ip -j -d link show) and restored at teardown, so a lab can shrink an MTU or rename a MAC
/// and leave nothing changed.
/// </summary>
public sealed record LinkSet(string Name, Place In, int? Mtu, string? Address, int? TxQueueLength, string? Alias) : LabAction
{
    /// <summary>IFALIASZ - 1: the longest alias the kernel keeps.</summary>
    public const int MaxAlias = 255;

    public static readonly ActionKind Kind = new("link-set", "ip link set dev NAME [mtu N] [address MAC] [txqueuelen N] [alias TEXT]",
        [
            new("name", FieldType.Interface, "a link the lab may change", Required: true),
            new("mtu", FieldType.Integer, "the MTU in bytes") { Min = 68, Max = 65535 },
            new("address", FieldType.Mac, "the MAC address, e.g. 02:42:ac:11:00:02"),
            new("txqueuelen", FieldType.Integer, "the transmit queue length in packets") { Min = 0, Max = 100_000_000 },
            new("alias", FieldType.Text, $"a description (ip link's alias, at most {MaxAlias} bytes)"),
            FieldSpec.In,
        ],
        r =>
        {
            var name = r.Interface("name", required: true);
            var mtu = r.Int("mtu", 68, 65535);
            var address = r.Mac("address");
            var txqueuelen = r.Int("txqueuelen", 0, 100_000_000);
            var alias = r.String("alias");
            if (alias is not null && (alias.Any(char.IsControl) || System.Text.Encoding.UTF8.GetByteCount(alias) > MaxAlias))
                r.Error(r.SpanOf("alias"), $"'alias' must be one line of at most {MaxAlias} bytes");
            if (!r.Has("mtu") && !r.Has("address") && !r.Has("txqueuelen") && !r.Has("alias"))
                r.Error(r.Span, "link-set changes nothing", "give at least one of mtu, address, txqueuelen or alias");
            return name is null ? null : new LinkSet(name, r.PlaceOf(), mtu, address, txqueuelen, alias);
        });

    public override string Keyword => Kind.Keyword;

    public override void Apply(HostModel host)
    {
        if (host.Namespace(In) is { } key) host.OwnLink(key, In, Name, "set");
    }

    public override async Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        var read = await context.CheckAsync(t.Ip("-j", "-d", "link", "show", "dev", Name), ct);
        if (!read.Succeeded) return read;
        var old = context.IsDryRun ? null : (JsonElement?)ObserveContext.Json(read.Stdout).EnumerateArray().FirstOrDefault();
        string Old(string property, string what) =>
            old is { } o && o.TryGetProperty(property, out var v) ? v.ValueKind == JsonValueKind.Number ? v.GetRawText() : v.GetString() ?? "" : context.IsDryRun ? $"<old {what}>" : "";
        var undo = Settings(Mtu is null ? null : Old("mtu", "mtu"), Address is null ? null : Old("address", "address"),
            TxQueueLength is null ? null : Old("txqlen", "txqueuelen"), Alias is null ? null : old is { } a ? Str(a, "ifalias") ?? "" : "<old alias>");
        var record = new UndoCommand($"restore {string.Join(", ", undo.Where((_, i) => i % 2 == 0))} of {Name} in {t.Label}",
            [.. t.Ip(["link", "set", "dev", Name, .. undo])], [.. GoneErrors.Link, .. GoneErrors.Namespace], null);
        string[] change = Settings(Mtu?.ToString(CultureInfo.InvariantCulture), Address, TxQueueLength?.ToString(CultureInfo.InvariantCulture), Alias);
        return await context.DoAsync(t.Ip(["link", "set", "dev", Name, .. change]), record, ct);
    }

    /// <summary>ip link set's words for the values given (an empty alias clears it).</summary>
    private static string[] Settings(string? mtu, string? address, string? txqueuelen, string? alias) =>
    [
        .. mtu is null ? [] : new[] { "mtu", mtu }, .. address is null ? [] : new[] { "address", address },
        .. txqueuelen is null ? [] : new[] { "txqueuelen", txqueuelen }, .. alias is null ? [] : new[] { "alias", alias },
    ];
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>
    /// <c>ip link set dev NAME [mtu N] [address MAC] [txqueuelen N] [alias TEXT]</c> (YAML <c>link-set</c>); the old values
    /// are restored at teardown.
    /// </summary>
    public static ActionClause SetLink(this StepBuilder step, string name, int? mtu = null, string? address = null, int? txqueuelen = null, string? alias = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(LinkSet.Kind, file, line, ("name", name), ("mtu", mtu), ("address", address), ("txqueuelen", txqueuelen), ("alias", alias));
}
