using System.Text;
using Spectre.Console;

namespace LabRunner.Cli.Output;

/// <summary>
/// The console as a <see cref="TextWriter"/> of plain lines (no markup read in them), for the parts of LabRunner.Core
/// that report in text: the controller of a lab across hosts.
/// </summary>
public sealed class ConsoleLines(IAnsiConsole console) : TextWriter
{
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_line)
        {
            if (value == '\n')
            {
                console.WriteLine(_line.ToString());
                _line.Clear();
            }
            else if (value != '\r') _line.Append(value);
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_line) console.WriteLine(value ?? "");
    }
}
