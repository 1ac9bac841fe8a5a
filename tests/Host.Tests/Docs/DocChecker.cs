using System.CommandLine;
using System.CommandLine.Parsing;
using TaskIsolation.Scenarios;

namespace TaskIsolation.Host.Tests.Docs;

/// <summary>Something in a document that is not true of the program, at a 1-based line of the document.</summary>
internal sealed record DocProblem(string Document, int Line, string What)
{
    public override string ToString() => $"{Document}:{Line}: {What}";
}

/// <summary>What checking one document found, and the document as the update mode rewrites it.</summary>
internal sealed record DocOutcome(IReadOnlyList<DocProblem> Problems, string UpdatedText);

/// <summary>
/// Checks a Markdown document against the program, block by block in document order, as docs/architecture.md
/// ("Docs are tested") describes: <c>console</c> blocks run their <c>$ taskisol</c> commands through
/// <see cref="Program.Run"/> and compare the output; <c>csharp</c> blocks compile and run; <c>sh</c> blocks have each
/// taskisol command line parsed; <c>&lt;!-- doctest: file PATH --&gt;</c> writes a block as a file the commands use;
/// <c>&lt;!-- doctest: skip REASON --&gt;</c> leaves a block out. Commands run in a new temporary directory holding a
/// copy of the repository's <c>scenarios/</c>, which stands for the repository root; the output shows that directory as
/// <see cref="WorkingDirectoryName"/>. The process's current directory is changed while a document is checked, so
/// callers run alone (the doc tests' collection is not parallel).
/// </summary>
internal sealed class DocChecker(string repoRoot)
{
    /// <summary>How a document shows the directory its commands run in.</summary>
    public const string WorkingDirectoryName = "/path/to/TaskIsolation";

    private const string Prompt = "$ ";

    private readonly string _repoRoot = repoRoot;

    public DocOutcome Check(string document, string text)
    {
        var lines = text.Split('\n');
        var problems = new List<DocProblem>();
        var edits = new SortedDictionary<int, (int Count, IReadOnlyList<string> Lines)>();
        IReadOnlyList<FencedBlock> blocks;
        try
        {
            blocks = Markdown.Blocks(lines);
        }
        catch (FormatException ex)
        {
            return new DocOutcome([new DocProblem(document, 0, ex.Message)], text);
        }

        var used = blocks.Where(b => b.DirectiveLine >= 0).Select(b => b.DirectiveLine).ToHashSet();
        foreach (var stray in Markdown.DirectiveLines(lines).Where(l => !used.Contains(l)))
        {
            problems.Add(new DocProblem(document, stray + 1, "a doctest directive must stand just above a code block"));
        }

        var work = Directory.CreateTempSubdirectory("taskisol-doc-").FullName;
        var previous = Environment.CurrentDirectory;
        try
        {
            CopyDirectory(Path.Combine(_repoRoot, "scenarios"), Path.Combine(work, "scenarios"));
            Environment.CurrentDirectory = work;
            var run = new Session(this, document, work, problems, edits);
            foreach (var block in blocks)
            {
                run.Block(block);
            }
        }
        finally
        {
            Environment.CurrentDirectory = previous;
            Directory.Delete(work, recursive: true);
        }

        var updated = lines.ToList();
        foreach (var (start, (count, replacement)) in edits.Reverse())
        {
            updated.RemoveRange(start, count);
            updated.InsertRange(start, replacement);
        }

        return new DocOutcome(problems, string.Join('\n', updated));
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    /// <summary>The checking of one document: its working directory, the last exit code, what it found.</summary>
    private sealed class Session(
        DocChecker checker, string document, string work, List<DocProblem> problems,
        SortedDictionary<int, (int Count, IReadOnlyList<string> Lines)> edits)
    {
        private int? _lastExit;

        public void Block(FencedBlock block)
        {
            var directive = block.Directive;
            if (directive is not null)
            {
                var (verb, rest) = directive.IndexOf(' ', StringComparison.Ordinal) is var sp and > 0
                    ? (directive[..sp], directive[(sp + 1)..].Trim())
                    : (directive, string.Empty);
                switch (verb)
                {
                    case "skip" when rest.Length > 0:
                        return;
                    case "skip":
                        Problem(block.DirectiveLine, "'doctest: skip' needs a reason");
                        return;
                    case "file" when rest.Length > 0:
                        WriteFile(block, rest);
                        return;
                    default:
                        Problem(block.DirectiveLine, $"unknown doctest directive '{directive}': use 'skip REASON' or 'file PATH'");
                        return;
                }
            }

            switch (block.Language)
            {
                case "console":
                    ConsoleBlock(block);
                    break;
                case "csharp" or "cs" or "c#":
                    foreach (var problem in CSharpExamples.CompileAndRun(string.Join('\n', block.Lines), $"{document}:{block.FenceLine + 2}"))
                    {
                        Problem(block.FenceLine, problem);
                    }

                    break;
                case "sh" or "bash" or "shell":
                    Listing(block);
                    break;
                default:
                    if (block.Lines.Any(l => l.StartsWith(Prompt, StringComparison.Ordinal)))
                    {
                        Problem(block.FenceLine, "a block of '$ ' commands and their output must be a ```console block (or be marked 'doctest: skip REASON')");
                    }

                    break;
            }
        }

        private void WriteFile(FencedBlock block, string path)
        {
            var content = string.Join('\n', block.Lines) + "\n";
            var inRepo = Path.Combine(checker._repoRoot, path);
            if (File.Exists(inRepo))
            {
                var repoText = File.ReadAllText(inRepo).ReplaceLineEndings("\n");
                if (repoText != content)
                {
                    Problem(block.FenceLine, $"the block is not the repository's {path}");
                    edits[block.FenceLine + 1] = (block.Lines.Count, repoText.TrimEnd('\n').Split('\n'));
                }

                content = repoText;
            }

            var target = Path.Combine(work, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllText(target, content);
        }

        /// <summary>A console block: <c>$ taskisol ARGS</c> and the output it prints, <c>$ echo $?</c> and the exit code.</summary>
        private void ConsoleBlock(FencedBlock block)
        {
            var lines = block.Lines;
            if (lines.Count == 0 || !lines[0].StartsWith(Prompt, StringComparison.Ordinal))
            {
                Problem(block.FenceLine, "a console block starts with a '$ taskisol ...' command");
                return;
            }

            for (var i = 0; i < lines.Count;)
            {
                var command = lines[i][Prompt.Length..].Trim();
                var end = i + 1;
                while (end < lines.Count && !lines[end].StartsWith(Prompt, StringComparison.Ordinal))
                {
                    end++;
                }

                var documented = Trimmed(lines.Skip(i + 1).Take(end - i - 1));
                var at = block.FileLine(i);
                if (command == "echo $?")
                {
                    var expected = _lastExit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "<no command ran>";
                    if (documented.Count != 1 || documented[0] != expected)
                    {
                        Problem(at, $"'echo $?' shows {string.Join(" ", documented)}, the command exited {expected}");
                        edits[at + 1] = (end - i - 1, [expected]);
                    }
                }
                else if (TaskisolArgs(command, at) is { } args)
                {
                    var printed = Run(args);
                    if (_lastExit == ExitCodes.InternalError)
                    {
                        // A bug of taskisol, not an output to write into a document.
                        Problem(at, $"'{command}' failed with an internal error:\n{string.Join("\n", printed)}");
                    }
                    else if (OutputMasks.Difference(documented, printed) is { } difference)
                    {
                        Problem(at, $"'{command}': {difference}");
                        edits[at + 1] = (end - i - 1, OutputMasks.Merge(documented, printed));
                    }
                }

                i = end;
            }
        }

        /// <summary>The arguments of a <c>taskisol</c> command of a console block; null (and a problem) for anything else.</summary>
        private string[]? TaskisolArgs(string command, int at)
        {
            IReadOnlyList<ShellWord> words;
            try
            {
                words = ShellWords.Split(command);
            }
            catch (FormatException ex)
            {
                Problem(at, ex.Message);
                return null;
            }

            if (words.Count == 0 || words[0].Text != "taskisol" || !words[0].Plain)
            {
                Problem(at, $"'{command}': a console block runs 'taskisol ...' and 'echo $?' only");
                return null;
            }

            if (words.FirstOrDefault(w => w.IsOperator) is { } op)
            {
                Problem(at, $"'{command}': '{op.Text}' is not run by the doc tests; show the command's whole output");
                return null;
            }

            return [.. words.Skip(1).Select(w => w.Text)];
        }

        /// <summary>Runs taskisol through its entry point, stdout and stderr interleaved as on a terminal.</summary>
        private List<string> Run(string[] args)
        {
            using var output = new StringWriter { NewLine = "\n" };
            _lastExit = Program.Run(args, output, output);
            var text = output.ToString()
                .Replace(work, WorkingDirectoryName, StringComparison.Ordinal)
                .Replace(Environment.CurrentDirectory, WorkingDirectoryName, StringComparison.Ordinal);
            return Trimmed(text.Split('\n'));
        }

        /// <summary>A sh block lists commands without their output: each taskisol command line must parse.</summary>
        private void Listing(FencedBlock block)
        {
            for (var i = 0; i < block.Lines.Count; i++)
            {
                var at = block.FileLine(i);
                var line = block.Lines[i];
                while (line.EndsWith('\\') && i + 1 < block.Lines.Count)
                {
                    line = line[..^1] + " " + block.Lines[++i];
                }

                IReadOnlyList<ShellWord> words;
                try
                {
                    words = ShellWords.Split(line);
                }
                catch (FormatException ex)
                {
                    Problem(at, ex.Message);
                    continue;
                }

                var segment = new List<ShellWord>();
                foreach (var word in words.Append(new ShellWord(";", true)))
                {
                    if (!word.IsOperator)
                    {
                        segment.Add(word);
                        continue;
                    }

                    if (InvocationArgs(segment) is { } args)
                    {
                        CheckParses(args, at);
                    }

                    segment.Clear();
                    if (word.Text.StartsWith('#'))
                    {
                        break;
                    }
                }
            }
        }

        /// <summary>The arguments given to taskisol by a simple command (<c>taskisol ARGS</c>, <c>dotnet run --project
        /// src/Host ... -- ARGS</c>, <c>dotnet .../taskisol.dll ARGS</c>), or null when it runs something else.</summary>
        private static string[]? InvocationArgs(List<ShellWord> words)
        {
            var texts = words.Select(w => w.Text).SkipWhile(t => t.Contains('=', StringComparison.Ordinal) && !t.StartsWith('-')).ToList();
            var program = texts.FindIndex(t => t == "taskisol" || t.EndsWith("/taskisol.dll", StringComparison.Ordinal));
            if (program >= 0)
            {
                return [.. texts.Skip(program + 1)];
            }

            if (texts.Count > 2 && texts[0] == "dotnet" && texts[1] == "run" && texts.Contains("src/Host"))
            {
                var dashes = texts.IndexOf("--");
                return dashes < 0 ? [] : [.. texts.Skip(dashes + 1)];
            }

            return null;
        }

        private void CheckParses(string[] args, int at)
        {
            var parse = Cli.BuildRoot().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
            var errors = Cli.Errors(parse);
            foreach (var error in errors)
            {
                Problem(at, $"'taskisol {string.Join(' ', args)}': {error}");
            }

            if (errors.Count > 0 || parse.CommandResult.Command.Name is not ("run" or "explore" or "soak"))
            {
                return;
            }

            var scenario = parse.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens).FirstOrDefault()?.Value;
            if (scenario is null)
            {
                return;
            }

            if (scenario.StartsWith("scenarios/", StringComparison.Ordinal) && !File.Exists(Path.Combine(checker._repoRoot, scenario)))
            {
                Problem(at, $"'taskisol {string.Join(' ', args)}': there is no {scenario}");
            }
            else if (!scenario.Contains('.', StringComparison.Ordinal) && !scenario.Contains('/', StringComparison.Ordinal) && !BuiltInScenarios.Contains(scenario))
            {
                Problem(at, $"'taskisol {string.Join(' ', args)}': there is no built-in scenario '{scenario}'");
            }
        }

        private void Problem(int line, string what) => problems.Add(new DocProblem(document, line + 1, what));

        /// <summary>Lines with trailing blanks removed, and no blank lines at the end.</summary>
        private static List<string> Trimmed(IEnumerable<string> lines)
        {
            var list = lines.Select(l => l.TrimEnd()).ToList();
            while (list.Count > 0 && list[^1].Length == 0)
            {
                list.RemoveAt(list.Count - 1);
            }

            return list;
        }
    }
}
