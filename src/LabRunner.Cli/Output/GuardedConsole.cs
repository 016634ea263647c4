using Spectre.Console;
using Spectre.Console.Rendering;

namespace LabRunner.Cli.Output;

/// <summary>
/// The console, such that writing to it can never stop a teardown. After SIGHUP the terminal is gone and every write
/// fails (EIO): <see cref="Detach"/> stops writing, and a write racing the hangup is dropped rather than thrown into
/// the engine. (Deliberately small: a console that fails for other reasons is issue 9's item 8.)
/// </summary>
/// <param name="terminal">Whether what it writes to was a terminal when we started (default: standard output's; standard
/// error's for the text of a <c>--format json</c> run).</param>
public sealed class GuardedConsole(IAnsiConsole inner, bool? terminal = null) : IAnsiConsole
{
    private readonly bool _terminal = terminal ?? !Console.IsOutputRedirected;
    private volatile bool _detached;

    public Profile Profile => inner.Profile;

    public IAnsiConsoleCursor Cursor => inner.Cursor;

    public IAnsiConsoleInput Input => inner.Input;

    public IExclusivityMode ExclusivityMode => inner.ExclusivityMode;

    public RenderPipeline Pipeline => inner.Pipeline;

    /// <summary>The terminal hung up: nothing more is written to it (Console.Out and Console.Error go nowhere too).</summary>
    public void Detach()
    {
        _detached = true;
        Console.SetOut(TextWriter.Null);
        Console.SetError(TextWriter.Null);
    }

    public void Clear(bool home) => Guard(() => inner.Clear(home));

    public void Write(IRenderable renderable) => Guard(() => inner.Write(renderable));

    public void WriteAnsi(Action<AnsiWriter> action) => Guard(() => inner.WriteAnsi(action));

    private void Guard(Action write)
    {
        if (_detached) return;
        try
        {
            write();
        }
        catch (IOException) when (_detached || _terminal)
        {
            // Our output is (was, when we started) a terminal, and writing to it failed: it hung up (EIO), and SIGHUP
            // is on its way. Write no more. (Output redirected to a file or device that fails is not this case.)
            Detach();
        }
    }
}
