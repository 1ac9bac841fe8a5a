using System.Reflection;
using System.Text.RegularExpressions;
using TaskIsolation.Actors.Tests.Scenarios;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Actors.Tests;

/// <summary>
/// No verdict, monitor, figure or export depends on the wording of a message: events carry typed fields, and their
/// text comes from formatters. These tests keep it so.
/// </summary>
public sealed partial class TypedEventDecisionTests
{
    /// <summary>
    /// String fields an event may still carry, each data rather than wording: a task step's display text (made by the
    /// scenario operation's own formatter, decided on through <see cref="OperationStarted.Step"/>), a syscall's name from
    /// the arch table, a device interrupt's action name, and a monitor's name and kind as the user (or the monitor's
    /// class) gave them, with the monitor's own explanation of its failure (display text: the finding's signature is
    /// made of the name, the kind and the typed <see cref="MonitorFailure"/>, never of it).
    /// </summary>
    private static readonly HashSet<string> DataStrings = new(StringComparer.Ordinal)
    {
        "OperationStarted.Operation",
        "SyscallEntered.Name",
        "DeviceIrqRaised.Name",
        "MonitorFailed.Monitor",
        "MonitorFailed.MonitorKind",
        "MonitorFailed.Reason",
    };

    /// <summary>
    /// Matching on purpose: the <c>dmesg</c> expectation asserts that the text a user reads contains the text the user
    /// wrote in the scenario.
    /// </summary>
    private static readonly HashSet<string> UserTextChecks = new(StringComparer.Ordinal)
    {
        "Expectation.cs: var found = run.Events.OfType<KernelLogged>().Where(l => l.Text.Contains(Text, StringComparison.Ordinal)).ToList();",
    };

    [Fact]
    public void Events_carry_no_string_field_but_display_text_and_plain_data()
    {
        var events = new[] { typeof(MachineEvent).Assembly, typeof(ViolationDetected).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => t.IsSubclassOf(typeof(MachineEvent)) && !t.IsAbstract)
            .ToList();
        Assert.Contains(typeof(InterruptTaken), events);

        var strings = events
            .SelectMany(t => t.GetConstructors().SelectMany(c => c.GetParameters()).Select(p => (Type: t, Parameter: p)))
            .Where(x => x.Parameter.ParameterType == typeof(string))
            .Select(x => $"{x.Type.Name}.{x.Parameter.Name}")
            .Distinct()
            .Where(n => !DataStrings.Contains(n))
            .ToList();

        Assert.Empty(strings);
    }

    [Fact]
    public void The_display_text_of_an_interrupt_is_computed_from_its_typed_source()
    {
        foreach (var t in new[] { typeof(InterruptSent), typeof(InterruptTaken), typeof(InterruptHeld), typeof(ViolationDetected) })
        {
            var detail = t.GetProperty("Detail", BindingFlags.Public | BindingFlags.Instance);
            Assert.NotNull(detail);
            Assert.False(detail.CanWrite, $"{t.Name}.Detail is a stored field; it must be computed from Source");
            Assert.Equal(typeof(InterruptSource), t.GetProperty("Source")!.PropertyType);
        }
    }

    [Fact]
    public void No_source_file_decides_on_the_wording_of_an_event()
    {
        var src = Path.Combine(ScenarioFiles.RepositoryRoot, "src");
        var found = new List<string>();
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var line in File.ReadLines(file))
            {
                var code = line.Trim();
                if (!code.StartsWith("//", StringComparison.Ordinal) && TextMatch().IsMatch(code)
                    && !UserTextChecks.Contains($"{Path.GetFileName(file)}: {code}"))
                {
                    found.Add($"{Path.GetRelativePath(src, file)}: {code}");
                }
            }
        }

        Assert.Empty(found);
    }

    /// <summary>
    /// <c>x.Detail.StartsWith(</c>, <c>x.Operation.Contains(</c>, <c>x.Function == "</c>, <c>x.Reason switch</c> and the
    /// like, on the text-bearing members events and messages used to have.
    /// </summary>
    [GeneratedRegex(@"\.(Detail|What|Text|Operation|Reason|Function|Action|Dependency)\s*(\.\s*(StartsWith|EndsWith|Contains|IndexOf|Equals)\(|(==|!=)\s*""|switch\b|is\s+"")")]
    private static partial Regex TextMatch();
}
