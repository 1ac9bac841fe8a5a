using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Mono.Unix;

namespace TaskIsolation.Host.Tests.Fuzz;

/// <summary>
/// One command line for the fuzz suite, with what it may touch and what else its answer must satisfy. A source makes it
/// in an empty directory of its own, writing there the files the command line names.
/// </summary>
/// <param name="Args">The command line, as a shell would pass it.</param>
public sealed record FuzzCase(string[] Args)
{
    /// <summary>What was mutated, for the failure report.</summary>
    public string What { get; init; } = string.Empty;

    /// <summary>Files and directories the command may create or replace; anything else in the directory must stay as it was.</summary>
    public IReadOnlyList<string> Outputs { get; init; } = [];

    /// <summary>Files the command reads: never changed, even when also named as an output (that must be refused).</summary>
    public IReadOnlyList<string> Inputs { get; init; } = [];

    /// <summary>Files and options one of which a bad-input (exit 2) message must name; none: no such check.</summary>
    public IReadOnlyList<string> Names { get; init; } = [];

    /// <summary>A case-specific oracle: null when the outcome is right, else what is wrong.</summary>
    public Func<Outcome, string?>? Check { get; init; }

    /// <summary>Run alongside the command (e.g. a FIFO's reader); disposed when the command has returned.</summary>
    public Func<IDisposable>? Alongside { get; init; }

    /// <summary>Most wall time the case may take; the harness's default when null.</summary>
    public TimeSpan? Bound { get; init; }
}

/// <summary>Makes the fuzz cases of one kind of input. Cases are a pure function of (index, random), so a seed replays them.</summary>
public interface IFuzzSource
{
    /// <summary>A name for reports.</summary>
    string Name { get; }

    /// <summary>Cases in the normal test run (the long run multiplies it, see <see cref="FuzzRun"/>).</summary>
    int NormalCount { get; }

    /// <summary>Whether the long run multiplies <see cref="NormalCount"/>: not for a source that already covers all its cases.</summary>
    bool Scales => true;

    /// <summary>Case number <paramref name="index"/> set up in the empty directory <paramref name="dir"/>; null to skip it (with why in <paramref name="skipped"/>).</summary>
    FuzzCase? Make(int index, Random random, string dir, out string? skipped);
}

/// <summary>What went wrong with one case.</summary>
public sealed record FuzzFailure(int Index, string What, string Args, IReadOnlyList<string> Problems, Outcome? Outcome);

/// <summary>A source's run: how many cases ran, were skipped, failed, and each failure.</summary>
public sealed record FuzzReport(string Source, int Ran, int Skipped, IReadOnlyList<FuzzFailure> Failures, TimeSpan Elapsed, IReadOnlyDictionary<string, int> ProblemCounts);

/// <summary>
/// Runs fuzz cases through <see cref="Program.Run"/>, the real entry point, each in a directory of its own, and judges each
/// answer by the rules every command keeps: exit 0, 1 or 2 only; no stack trace; on 2, each line of stderr an error naming
/// the file or option (one line each: no raw line break or control character in it); within a wall bound; and no file
/// changed but the named outputs.
/// </summary>
public static partial class FuzzRun
{
    /// <summary>The default per-case wall bound: a case that takes longer is reported as a hang.</summary>
    public static readonly TimeSpan DefaultBound = TimeSpan.FromSeconds(45);

    /// <summary>A source stops after this many hung cases (their threads go on until the test process ends).</summary>
    public const int MostHangs = 3;

    /// <summary>
    /// How many times the normal case count to run: <c>TASKISOL_FUZZ</c> (default 1). The release check runs e.g.
    /// <c>TASKISOL_FUZZ=40 dotnet test tests/Host.Tests --filter Category=Fuzz</c> (docs/testing.md).
    /// </summary>
    public static int Scale => int.TryParse(Environment.GetEnvironmentVariable("TASKISOL_FUZZ"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 1;

    /// <summary>The seed of every source: <c>TASKISOL_FUZZ_SEED</c>, default 20161104; a failure report names it.</summary>
    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable("TASKISOL_FUZZ_SEED"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s) ? s : 20_161_104;

    /// <summary>Runs <paramref name="count"/> cases of <paramref name="source"/> (its normal count times <see cref="Scale"/> when null).</summary>
    public static FuzzReport Run(IFuzzSource source, int? count = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var n = count ?? source.NormalCount * (source.Scales ? Scale : 1);
        var root = Directory.CreateTempSubdirectory("taskisol-fuzz-").FullName;
        var failures = new List<FuzzFailure>();
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int ran = 0, skipped = 0, hangs = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < n; i++)
            {
                var dir = Path.Combine(root, i.ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(dir);

                // Each case has its own stream of randomness, so case i is the same whatever ran before it.
                var random = new Random(unchecked((Seed * 31) + (i * 7919) + Stable(source.Name)));
                var c = source.Make(i, random, dir, out var why);
                if (c is null)
                {
                    skipped++;
                    continue;
                }

                ran++;
                var (problems, outcome, hung) = RunCase(c, dir);
                if (problems.Count > 0)
                {
                    failures.Add(new FuzzFailure(i, c.What, Show(c.Args), problems, outcome));
                    foreach (var p in problems.Select(Category).Distinct())
                    {
                        counts[p] = counts.GetValueOrDefault(p) + 1;
                    }
                }

                if (hung && ++hangs == MostHangs)
                {
                    // A hung command's thread cannot be stopped: leave those, and do not pile more on the machine.
                    break;
                }

                TryDelete(dir);
            }
        }
        finally
        {
            TryDelete(root);
        }

        return new FuzzReport(source.Name, ran, skipped, failures, clock.Elapsed, counts);
    }

    /// <summary>The report as text: counts, then each failure (the first <paramref name="most"/>).</summary>
    public static string Describe(FuzzReport report, int most = 25)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"fuzz {report.Source}: {report.Ran} cases, {report.Failures.Count} failed, {report.Skipped} skipped, {report.Elapsed.TotalSeconds:0.0} s (seed {Seed}, scale {Scale})\n");
        foreach (var (problem, n) in report.ProblemCounts)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {n} case(s): {problem}\n");
        }

        foreach (var f in report.Failures.Take(most))
        {
            sb.Append(CultureInfo.InvariantCulture, $"case {f.Index} ({f.What}): taskisol {f.Args}\n");
            foreach (var p in f.Problems)
            {
                sb.Append("    ").Append(p).Append('\n');
            }

            if (f.Outcome is { } o)
            {
                sb.Append(CultureInfo.InvariantCulture, $"    exit {o.Exit}; stderr: {Clip(o.Err)}\n");
            }
        }

        return sb.ToString();
    }

    /// <summary>Runs one case made in <paramref name="dir"/> and judges it; also used by the output-path tests.</summary>
    public static (List<string> Problems, Outcome? Outcome, bool Hung) RunCase(FuzzCase c, string dir)
    {
        ArgumentNullException.ThrowIfNull(c);
        var watched = c.Inputs.Concat(c.Outputs).Where(p => p.Length > 0).Select(p => Path.GetDirectoryName(Path.GetFullPath(p))).OfType<string>()
            .Prepend(dir).Distinct(StringComparer.Ordinal).ToList();
        var before = Snapshot(watched, Exempt(c));
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        var outWriter = TextWriter.Synchronized(stdout);
        var errWriter = TextWriter.Synchronized(stderr);
        var problems = new List<string>();
        var alongside = c.Alongside?.Invoke();
        var run = Task.Factory.StartNew(() => Program.Run(c.Args, outWriter, errWriter), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var bound = c.Bound ?? DefaultBound;
        bool finished;
        try
        {
            finished = run.Wait(bound);
        }
        catch (AggregateException ex)
        {
            problems.Add($"escaped Program.Run: {ex.InnerException?.GetType().Name}: {ex.InnerException?.Message}");
            alongside?.Dispose();
            return (problems, null, false);
        }
        finally
        {
            if (!run.IsCompleted)
            {
                // Unblock a reader waiting for a writer that never came, then judge what we have.
                alongside?.Dispose();
            }
        }

        if (!finished)
        {
            problems.Add($"hang: no exit within {bound.TotalSeconds:0} s");
            return (problems, new Outcome(-1, Read(outWriter, stdout), Read(errWriter, stderr)), true);
        }

        alongside?.Dispose();
        var outcome = new Outcome(run.Result, Read(outWriter, stdout), Read(errWriter, stderr));
        problems.AddRange(Judge(c, outcome));
        var after = Snapshot(watched, Exempt(c));
        problems.AddRange(Changes(before, after));
        if (c.Check?.Invoke(outcome) is { } wrong)
        {
            problems.Add(wrong);
        }

        return (problems, outcome, false);
    }

    /// <summary>The rules every answer keeps, whatever the case.</summary>
    public static IEnumerable<string> Judge(FuzzCase c, Outcome o)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(o);
        if (o.Exit is not (0 or 1 or 2))
        {
            yield return o.Exit == 3 ? "internal error (exit 3)" : $"exit {o.Exit}, expected 0, 1 or 2";
        }

        if (StackTrace().IsMatch(o.Err) || StackTrace().IsMatch(o.Out))
        {
            yield return "stack trace";
        }

        if (o.Exit != 2)
        {
            yield break;
        }

        var lines = o.Err.TrimEnd('\n').Split('\n');
        if (o.Err.Length == 0)
        {
            yield return "exit 2 without a message on stderr";
            yield break;
        }

        foreach (var line in lines)
        {
            if (line.FirstOrDefault(IsLineBreakOrControl) is var bad && bad != default)
            {
                yield return $"raw U+{(int)bad:X4} in an error message";
                break;
            }
        }

        // Names as messages echo them: on one line, control characters escaped.
        var names = c.Names.Where(n => n.Length > 0).Select(ErrorText.OneLine).ToList();

        // Every line is an error of its own: 'taskisol CMD: ...', 'FILE:LINE:COL: ...' or System.CommandLine's 'Try ...'.
        var stray = lines.FirstOrDefault(l => !l.StartsWith(Cli.Name, StringComparison.Ordinal) && !l.StartsWith("Try '", StringComparison.Ordinal)
            && !names.Any(n => l.StartsWith(n, StringComparison.Ordinal)));
        if (stray is not null)
        {
            yield return $"an error message spans several lines (a line that is not an error: '{Clip(stray)}')";
        }

        if (names.Count > 0 && !names.Any(n => o.Err.Contains(n, StringComparison.Ordinal)))
        {
            yield return $"the message names none of {string.Join(", ", names.Select(n => $"'{Clip(n, 60)}'"))}";
        }
    }

    /// <summary>A problem's category: its text up to the first quote or colon detail.</summary>
    private static string Category(string problem)
    {
        var cut = problem.IndexOfAny([':', '\'']);
        return (cut > 0 ? problem[..cut] : problem).Trim();
    }

    private static bool IsLineBreakOrControl(char ch) => char.IsControl(ch) || ch is '\u2028' or '\u2029' or '\u0085';

    private static HashSet<string> Exempt(FuzzCase c)
    {
        // Outputs may change; an input never does, even when also named as an output.
        var inputs = c.Inputs.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        return c.Outputs.Where(p => p.Length > 0).Select(Path.GetFullPath).Where(p => !inputs.Contains(p)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Every entry under <paramref name="dirs"/> (not following links), with what identifies its content, but for the exempt paths and what is under them.</summary>
    private static Dictionary<string, string> Snapshot(IEnumerable<string> dirs, HashSet<string> exempt)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in dirs)
        {
            if (!Directory.Exists(dir) || dir.StartsWith("/proc", StringComparison.Ordinal) || dir.StartsWith("/dev", StringComparison.Ordinal))
            {
                continue;
            }

            Walk(Path.GetFullPath(dir), exempt, seen, depth: 0);
        }

        return seen;
    }

    private static void Walk(string dir, HashSet<string> exempt, Dictionary<string, string> seen, int depth)
    {
        if (depth > 4)
        {
            return;
        }

        foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
        {
            if (exempt.Contains(entry) || exempt.Any(e => entry.StartsWith(e + "/", StringComparison.Ordinal)) || seen.ContainsKey(entry))
            {
                continue;
            }

            var info = UnixFileSystemInfo.GetFileSystemEntry(entry);
            string id;
            switch (info.FileType)
            {
                case FileTypes.RegularFile:
                    id = $"file {info.Inode} {info.Length} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(entry)))}";
                    break;
                case FileTypes.Directory:
                    id = $"dir {info.Inode}";
                    seen[entry] = id;
                    Walk(entry, exempt, seen, depth + 1);
                    continue;
                case FileTypes.SymbolicLink:
                    id = $"symlink -> {new FileInfo(entry).LinkTarget}";
                    break;
                default:
                    id = $"{info.FileType} {info.Inode}";
                    break;
            }

            seen[entry] = id;
        }
    }

    private static IEnumerable<string> Changes(Dictionary<string, string> before, Dictionary<string, string> after)
    {
        foreach (var (path, id) in before)
        {
            if (!after.TryGetValue(path, out var now))
            {
                yield return $"file changed: {path} was removed";
            }
            else if (now != id)
            {
                yield return $"file changed: {path} ({id.Split(' ')[0]} -> {now.Split(' ')[0]}{(now.Split(' ')[0] == id.Split(' ')[0] ? ", content" : string.Empty)})";
            }
        }

        foreach (var path in after.Keys.Where(p => !before.ContainsKey(p)))
        {
            yield return $"file changed: {path} was created, and is no named output";
        }
    }

    /// <summary>What <paramref name="text"/> holds, read under the lock of its synchronized writer (a hung command may still write).</summary>
    private static string Read(TextWriter synchronized, StringWriter text)
    {
        lock (synchronized)
        {
            return text.ToString();
        }
    }

    /// <summary>A command line as a shell would quote it.</summary>
    public static string Show(IEnumerable<string> args) => string.Join(' ', args.Select(a => a.Length > 0 && a.All(ch => char.IsAsciiLetterOrDigit(ch) || "-_./=:@,+".Contains(ch, StringComparison.Ordinal)) ? a : $"'{Escape(a)}'"));

    /// <summary>Control characters and line separators as escapes, the text clipped.</summary>
    public static string Clip(string s, int max = 400)
    {
        var e = Escape(s);
        return e.Length > max ? e[..max] + "..." : e;
    }

    private static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var ch in s)
        {
            _ = IsLineBreakOrControl(ch) ? sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)ch:X4}") : sb.Append(ch);
        }

        return sb.ToString();
    }

    private static int Stable(string s)
    {
        var h = 17;
        foreach (var ch in s)
        {
            h = unchecked((h * 31) + ch);
        }

        return h;
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A FIFO's reader or a hung case may still hold something; the temporary directory goes with the machine.
        }
    }

    [GeneratedRegex(@"(?m)^\s+at [\w.<>`|$\[\],]+[.(]|internal error|--- End of")]
    private static partial Regex StackTrace();
}
