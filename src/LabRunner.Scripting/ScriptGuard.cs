using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace LabRunner.Scripting;

/// <summary>
/// What a lab script calls, once <see cref="ScriptGuards"/> has rewritten it, at the start of every method, local
/// function, accessor and lambda body (<see cref="Enter"/>) and of every loop body (<see cref="Tick"/>): a recursion
/// that would overflow the stack (which no .NET code can catch: the process dies) throws a catchable
/// <see cref="InsufficientExecutionStackException"/> instead, and a script that runs past its deadline throws
/// <see cref="ScriptTimeoutException"/>, both at the line of the script that was running.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ScriptGuard
{
    private static readonly AsyncLocal<Budget?> Current = new();

    internal sealed record Budget(long DeadlineTicks, TimeSpan Timeout, CancellationToken Token);

    /// <summary>The deadline of the scripts run on this flow (thread and the tasks it starts).</summary>
    internal static void Begin(TimeSpan timeout, CancellationToken ct) =>
        Current.Value = new Budget(Environment.TickCount64 + (long)timeout.TotalMilliseconds, timeout, ct);

    public static void Enter()
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        Tick();
    }

    public static void Tick()
    {
        if (Current.Value is not { } budget) return;
        budget.Token.ThrowIfCancellationRequested();
        if (Environment.TickCount64 >= budget.DeadlineTicks) throw new ScriptTimeoutException(budget.Timeout);
    }

    /// <summary>An expression lambda's body, guarded: <c>x =&gt; e</c> becomes <c>x =&gt; ScriptGuard.Run(() =&gt; e)</c>.</summary>
    public static T Run<T>(Func<T> body)
    {
        Enter();
        return body();
    }

    /// <summary>The same for a lambda whose body is a call that returns nothing.</summary>
    public static void Run(Action body)
    {
        Enter();
        body();
    }
}

/// <summary>A lab script ran longer than its timeout (<c>--script-timeout</c>).</summary>
public sealed class ScriptTimeoutException(TimeSpan timeout)
    : Exception($"the script did not finish within {LabScript.Seconds(timeout)} s")
{
    public TimeSpan Timeout { get; } = timeout;
}
