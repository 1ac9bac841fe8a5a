using System.Globalization;
using TaskIsolation.Scenarios.Reading;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace TaskIsolation.Scenarios;

/// <summary>
/// Reads a scenario file (YAML, docs/scenarios.md) into a <see cref="Scenario"/>, validating all of it before
/// anything runs. Every problem is collected with its file, line and column; the one exception thrown, for any
/// input at all, is <see cref="ScenarioException"/>.
/// </summary>
public static class ScenarioLoader
{
    /// <summary>Files larger than this are refused: a scenario is a page or two of YAML.</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>Deepest nesting of lists and mappings accepted (programs nest loops, forks and handlers).</summary>
    public const int MaxDepth = 64;

    /// <summary>The instruction address an <c>unaligned</c> step gets when the scenario names none (a user text address).</summary>
    public const ulong UnalignedAccessDefaultPc = 0x10000;

    /// <summary>The keys of every mapping of the format, by the name docs/scenario.schema.json gives its definition.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Keys { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["scenario"] = ["name", "description", "cpus", "arch", "config", "cmdline", "sysctl", "model", "duration", "tasks", "noise", "osnoise", "monitors", "expectations"],
        ["osnoise"] = ["cpus", "period", "warm_up"],
        ["model"] = ["variant", "residual_tick", .. SwitchKeys(), "bounded_wait", "liveness_bound", "max_instant_deliveries", "timings"],
        ["timings"] = [.. TimingKeys()],
        ["sysctl"] = ["vm.stat_interval"],
        ["task"] = ["name", "cpus", "policy", "start", "program"],
        ["operation"] = ["compute", "syscall", "prctl", "affinity", "touch", "mmap", "munmap", "mlock", "posix_timer", "sleep", "kill", "sigaction", "fork", "thread", "wait", "exit", "loop", "unaligned"],
        ["syscall"] = ["name", "nr", "work"],
        ["prctl"] = ["option", "arg", "enable", "signal"],
        ["affinity"] = ["cpus", "task"],
        ["posix_timer"] = ["expires", "signal", "per_process"],
        ["kill"] = ["task", "signal"],
        ["sigaction"] = ["signal", "handler"],
        ["spawn"] = ["name", "program"],
        ["loop"] = ["count", "body"],
        ["unaligned"] = ["address", "pc"],
        ["noise"] = ["irq", "nmi", "periodic", "posix_timer"],
        ["irq"] = ["number", "name", "cpus", "period", "rate", "first"],
        ["nmi"] = ["cpus", "period", "rate", "first"],
        ["periodic"] = ["name", "cpus", "every", "start", "do"],
        ["posix_timer_noise"] = ["name", "cpus", "every", "expires", "signal", "per_process", "start"],
        ["expectation"] = ["no_violations", "violations", "interrupts", "killed", "exited", "prctl", "signals", "no_liveness_failures", "liveness_failure", "dmesg", "no_dmesg", "sysfs", "elapsed", "max_noise", "one_of"],
        ["no_violations"] = ["cpus"],
        ["violations"] = ["cpus", "kind", "task", "count", "at_least", "at_most"],
        ["interrupts"] = ["cpus", "kind", "count", "at_least", "at_most"],
        ["killed"] = ["task", "signal", "reason"],
        ["exited"] = ["task", "code"],
        ["prctl_returns"] = ["task", "call", "returns"],
        ["signals"] = ["task", "signal", "count", "at_least", "at_most"],
        ["liveness_failure"] = ["task"],
        ["sysfs"] = ["file", "cpus"],
        ["elapsed"] = ["from", "to", "at_least", "at_most"],
        ["event_point"] = ["task", "starts", "ends", "exits", "call"],
        ["max_noise"] = ["cpus", "at_least", "at_most"],
        ["monitor"] = ["no_interrupt", "max_single_noise", "reaches_user"],
        ["no_interrupt"] = ["name", "cpus", "kind", "from", "to"],
        ["max_single_noise"] = ["name", "cpus", "at_most"],
        ["reaches_user"] = ["name", "task", "after", "within"],
    };

    /// <summary>
    /// Reads and validates the scenario in <paramref name="path"/>; its name defaults to the file name. The file is
    /// UTF-8 (a byte order mark is skipped): another encoding is refused naming the first invalid byte.
    /// </summary>
    /// <exception cref="ScenarioException">The file cannot be read, is not UTF-8, or the scenario is invalid.</exception>
    public static Scenario LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = ReadBounded(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or System.Security.SecurityException)
        {
            throw new ScenarioException([new ScenarioError(path, 1, 1, $"cannot read the file: {ex.Message}")]);
        }

        if (bytes.Length > MaxBytes)
        {
            throw new ScenarioException([new ScenarioError(path, 1, 1, $"file is more than a scenario's limit of {MaxBytes} bytes")]);
        }

        var text = Reports.Utf8Text.Decode(bytes, out var invalid);
        if (text is null)
        {
            var e = invalid!;
            throw new ScenarioException([new ScenarioError(path, e.Line, e.Column, string.Create(CultureInfo.InvariantCulture, $"invalid UTF-8: byte 0x{e.Value:X2} at byte offset {e.Offset}; a scenario file is UTF-8"))]);
        }

        return Load(text, path, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>At most <see cref="MaxBytes"/> + 1 bytes of the file: a device or FIFO has no length to check first.</summary>
    private static byte[] ReadBounded(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        using var buffer = new MemoryStream();
        var chunk = new byte[65536];
        int n;
        while (buffer.Length <= MaxBytes && (n = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, MaxBytes + 1 - buffer.Length))) > 0)
        {
            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    /// <summary>Reads and validates a scenario from YAML text.</summary>
    /// <param name="text">The YAML.</param>
    /// <param name="file">The name errors give as the place (a path, or e.g. <c>builtin:default</c>).</param>
    /// <param name="defaultName">The scenario's name when the text gives none.</param>
    /// <exception cref="ScenarioException">Every problem found, each with its line and column.</exception>
    public static Scenario Load(string text, string file = "<scenario>", string? defaultName = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);
        var reader = new YamlReader(file);
        var root = Parse(text, reader);
        if (root is null || reader.Errors.Count > 0)
        {
            throw new ScenarioException(reader.Errors);
        }

        var scenario = new ScenarioReader(reader).Read(root, defaultName ?? "scenario");
        if (reader.Errors.Count > 0 || scenario is null)
        {
            throw new ScenarioException(reader.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column));
        }

        return scenario;
    }

    /// <summary>Whether <paramref name="text"/> is a valid scenario; the errors when not.</summary>
    public static bool TryLoad(string text, string file, out Scenario? scenario, out IReadOnlyList<ScenarioError> errors)
    {
        try
        {
            scenario = Load(text, file);
            errors = [];
            return true;
        }
        catch (ScenarioException ex)
        {
            scenario = null;
            errors = ex.Errors;
            return false;
        }
    }

    /// <summary>
    /// YAML to a node tree. A first pass over the parser's events (iterative, so no input can exhaust the stack)
    /// refuses deep nesting, aliases and several documents before the representation model, which recurses, is built.
    /// </summary>
    private static YamlNode? Parse(string text, YamlReader reader)
    {
        if (text.Length > MaxBytes)
        {
            reader.Error(1, 1, $"text is {text.Length} characters, more than a scenario's limit of {MaxBytes}");
            return null;
        }

        try
        {
            var parser = new Parser(new StringReader(text));
            var depth = 0;
            var documents = 0;
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case MappingStart or SequenceStart:
                        if (++depth > MaxDepth)
                        {
                            reader.Error((int)parser.Current.Start.Line, (int)parser.Current.Start.Column, $"nesting deeper than {MaxDepth} levels");
                            return null;
                        }

                        break;
                    case MappingEnd or SequenceEnd:
                        depth--;
                        break;
                    case AnchorAlias alias:
                        reader.Error((int)alias.Start.Line, (int)alias.Start.Column, $"found the alias '*{YamlReader.Clip(alias.Value.ToString())}', expected the value written out (scenarios take no YAML aliases)");
                        return null;
                    case DocumentStart { IsImplicit: false } when documents > 0:
                    case DocumentStart when documents > 0:
                        reader.Error((int)parser.Current.Start.Line, (int)parser.Current.Start.Column, "found a second YAML document, expected one scenario per file");
                        return null;
                    case DocumentStart:
                        documents++;
                        break;
                }
            }

            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0 || YamlReader.IsNull(stream.Documents[0].RootNode))
            {
                reader.Error(1, 1, "the file is empty, expected a scenario (a mapping with cpus, cmdline, tasks, ...)");
                return null;
            }

            return stream.Documents[0].RootNode;
        }
        catch (YamlException ex)
        {
            reader.Error((int)ex.Start.Line, (int)ex.Start.Column, $"YAML syntax: {OneLine(ex.Message)}");
            return null;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or OverflowException or InvalidCastException or NotSupportedException)
        {
            // YamlDotNet reports some malformed input (a duplicate key, an odd tag) with a plain .NET exception.
            reader.Error(1, 1, $"YAML: {OneLine(ex.Message)}");
            return null;
        }
    }

    private static string OneLine(string s) => YamlReader.Clip(s, 200);

    private static IEnumerable<string> SwitchKeys() => ModelKeys.Switches.Select(k => k.Key);

    private static IEnumerable<string> TimingKeys() => ModelKeys.Timings.Select(k => k.Key);
}
