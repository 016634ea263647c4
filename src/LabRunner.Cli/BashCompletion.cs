using System.CommandLine;
using System.CommandLine.Completions;
using System.Text;

namespace LabRunner.Cli;

/// <summary>
/// <c>labrunner completion bash</c>: a bash completion script made from the command tree itself, so it names every
/// command and option there is. Lab files complete as *.yaml, *.yml and *.csx; bundles as *.tar.gz; runs by the
/// journal directories in the state directory (<c>--state-dir</c> on the line, else /run/labrunner); an option with
/// choices (<c>--runtime</c>, <c>--format</c>) by its choices; after <c>--</c> (exec) a command.
/// </summary>
public static class BashCompletion
{
    /// <summary>What a positional argument is, by its name in the command tree.</summary>
    private static string Kind(Argument argument) => argument.Name switch
    {
        "file" => "lab",
        "bundle" => "bundle",
        "lab" or "ids" => "run",
        "shell" => "shell",
        _ => "none",
    };

    /// <summary>Options whose value is a path: a directory, or a file to write.</summary>
    private static readonly string[] DirectoryOptions = ["--state-dir"];
    private static readonly string[] FileOptions = ["--junit", "--transcript", "--bundle"];

    public static string Script(RootCommand root, string program = "labrunner")
    {
        var commands = new List<(string Path, Command Command)>();
        Walk(root, "", commands);
        var b = new StringBuilder();
        b.Append($$"""
            # bash completion for {{program}}: commands, options, lab files (.yaml, .yml, .csx), bundles, run ids.
            #   source <({{program}} completion bash)                                 # this shell
            #   {{program}} completion bash > /etc/bash_completion.d/{{program}}        # every new shell

            _{{Name(program)}}_runs() {
                local dir=/run/labrunner i d
                for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
                    [[ ${COMP_WORDS[i]} == --state-dir ]] && dir=${COMP_WORDS[i+1]}
                done
                for d in "$dir"/*; do
                    d=${d##*/}
                    [[ -d $dir/$d && $d == "$1"* ]] && COMPREPLY+=("$d")
                done
            }

            _{{Name(program)}}_files() {
                local cur=$1 pattern
                shift
                compopt -o filenames 2>/dev/null
                COMPREPLY+=($(compgen -d -- "$cur"))
                for pattern in "$@"; do
                    COMPREPLY+=($(compgen -f -X "!*$pattern" -- "$cur"))
                done
            }

            _{{Name(program)}}() {
                local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path="" word i n=0 opts values positional
                COMPREPLY=()
                for ((i = 1; i < COMP_CWORD; i++)); do
                    word=${COMP_WORDS[i]}
                    if [[ $word == -- ]]; then
                        COMPREPLY=($(compgen -c -- "$cur"))
                        return
                    fi
                    case "$path/$word" in

            """);
        b.Append("            ").Append(string.Join("|", commands.Where(c => c.Path.Length > 0).Select(c => Quote(c.Path)))).Append(") path=\"$path/$word\"; n=0; continue ;;\n");
        b.Append("""
                    esac
                    # the options of the command named so far that take a value: their values are no positional argument
                    case "$path" in

            """);
        foreach (var (path, command) in commands)
            b.Append("            ").Append(Quote(path)).Append(") values=\"").Append(string.Join(' ', Options(command).Where(TakesValue).SelectMany(Names))).Append("\" ;;\n");
        b.Append("""
                    esac
                    [[ $word == -* ]] && continue
                    case " $values " in *" ${COMP_WORDS[i-1]} "*) continue ;; esac
                    ((n++))
                done
                case "$path" in

            """);
        foreach (var (path, command) in commands)
        {
            var words = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).Concat(Options(command).SelectMany(Names)).Append("--help");
            var positional = command.Arguments.Where(a => !a.Hidden).Select(Kind).ToList();
            if (positional.Count > 0 && command.Arguments[^1].Arity.MaximumNumberOfValues > 1) positional.Add(positional[^1] + "*");
            b.Append("        ").Append(Quote(path)).Append(") opts=\"").Append(string.Join(' ', words.Distinct())).Append("\"; positional=\"")
             .Append(string.Join(' ', positional)).Append("\" ;;\n");
        }
        b.Append("""
                esac
                # the value of an option
                case "$path $prev" in

            """);
        foreach (var (path, command) in commands)
            foreach (var option in Options(command).Where(TakesValue))
            {
                var choices = option.GetCompletions(CompletionContext.Empty).Select(c => c.Label).ToList();
                var complete = DirectoryOptions.Contains(option.Name) ? "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- \"$cur\"))"
                    : FileOptions.Contains(option.Name) ? "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\"))"
                    : choices.Count > 0 ? $"COMPREPLY=($(compgen -W \"{string.Join(' ', choices)}\" -- \"$cur\"))"
                    : ":";
                b.Append("        ").Append(string.Join("|", Names(option).Select(n => Quote($"{path} {n}")))).Append(") ").Append(complete).Append("; return ;;\n");
            }
        b.Append($$"""
                esac
                if [[ $cur == -* || -z $positional ]]; then
                    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
                    return
                fi
                local kinds=($positional) kind
                kind=${kinds[n]}
                [[ -n $kind ]] || kind=${kinds[-1]}
                [[ $kind == *'*' ]] && kind=${kind%'*'} || { ((n < ${#kinds[@]})) || kind=none; }
                case $kind in
                    lab) _{{Name(program)}}_files "$cur" .yaml .yml .csx ;;
                    bundle) _{{Name(program)}}_files "$cur" .tar.gz ;;
                    run) _{{Name(program)}}_runs "$cur" ;;
                    shell) COMPREPLY=($(compgen -W "bash" -- "$cur")) ;;
                esac
            }

            complete -F _{{Name(program)}} {{program}}

            """);
        return b.ToString();
    }

    /// <summary>Every command under <paramref name="command"/>, by its path ("" for the root, "/image/seed").</summary>
    private static void Walk(Command command, string path, List<(string, Command)> into)
    {
        into.Add((path, command));
        foreach (var sub in command.Subcommands.Where(c => !c.Hidden)) Walk(sub, $"{path}/{sub.Name}", into);
    }

    private static IEnumerable<Option> Options(Command command) => command.Options.Where(o => !o.Hidden);

    /// <summary>An option's names as typed in a shell (not help's "-?" and "/h").</summary>
    private static IEnumerable<string> Names(Option option) =>
        new[] { option.Name }.Concat(option.Aliases).Where(n => n.Length > 1 && n[0] == '-' && char.IsAsciiLetter(n.TrimStart('-').FirstOrDefault()));

    private static bool TakesValue(Option option) => option.ValueType != typeof(bool) && option.Arity.MaximumNumberOfValues > 0;

    private static string Quote(string word) => $"\"{word}\"";

    private static string Name(string program) => new([.. program.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);
}
