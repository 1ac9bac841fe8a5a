using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace TaskIsolation.Host.Bench;

/// <summary>One figure of the benchmark, with its target where issue 8 sets one.</summary>
/// <param name="Id">Stable key for machines (<c>compression.default.controlled</c>).</param>
/// <param name="What">What it measures, for people.</param>
/// <param name="Value">The figure.</param>
/// <param name="Unit">Its unit.</param>
/// <param name="Target">The target, if any.</param>
/// <param name="LowerIsBetter">Whether the target is a ceiling rather than a floor.</param>
internal sealed record BenchRow(string Id, string What, double Value, string Unit, double? Target, bool LowerIsBetter)
{
    /// <summary>Whether the target is met; null when there is none.</summary>
    public bool? Met => Target is { } t ? (LowerIsBetter ? Value <= t : Value >= t) : null;
}

/// <summary>One machine of the scaling curve, over its timed window.</summary>
/// <param name="Cpus">CPUs.</param>
/// <param name="Housekeeping">Housekeeping CPUs (the others run an isolated poller each).</param>
/// <param name="SimulatedNs">The simulated window.</param>
/// <param name="Deliveries">Model messages delivered in it.</param>
/// <param name="Wall">Its wall time.</param>
/// <param name="Cpu">CPU time the process used in it.</param>
/// <param name="Boot">Wall time to boot the machine.</param>
internal sealed record CurvePoint(int Cpus, int Housekeeping, long SimulatedNs, long Deliveries, TimeSpan Wall, TimeSpan Cpu, TimeSpan Boot)
{
    /// <summary>Deliveries per simulated second: exact, the same in every run.</summary>
    public double DeliveriesPerSimSecond => Deliveries / (SimulatedNs / 1e9);

    /// <summary>The same per CPU: flat when cost grows linearly with the machine.</summary>
    public double DeliveriesPerSimSecondPerCpu => DeliveriesPerSimSecond / Cpus;

    /// <summary>Simulated seconds per wall second (controlled mode).</summary>
    public double Compression => SimulatedNs / 1e9 / Wall.TotalSeconds;

    /// <summary>Model deliveries per wall second.</summary>
    public double DeliveriesPerWallSecond => Deliveries / Wall.TotalSeconds;
}

/// <summary>Everything one <c>taskisol bench</c> run measured: a table for people, JSON for machines.</summary>
internal sealed class BenchReport
{
    public bool Quick { get; init; }

    public List<BenchRow> Rows { get; } = [];

    public List<string> NotMeasured { get; } = [];

    public Dictionary<string, double> DeliveriesPerSimSecondByType { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, double> EventsPerSimSecondByType { get; } = new(StringComparer.Ordinal);

    public double RawControlled { get; set; }

    public double RawConcurrentOnePair { get; set; }

    public double RawConcurrentPairs { get; set; }

    public long PeakWorkingSetBytes { get; set; }

    public string ScaleMachine { get; set; } = string.Empty;

    /// <summary>The scaling curve, smallest machine first.</summary>
    public List<CurvePoint> Curve { get; } = [];

    public void Add(string id, string what, double value, string unit, double? target = null, bool lowerIsBetter = false) =>
        Rows.Add(new BenchRow(id, what, value, unit, target, lowerIsBetter));

    /// <summary>The table, then the delivery breakdown and what was not measured.</summary>
    public void WriteTable(TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = Math.Max(console.Profile.Width, 110);

        var table = new Table().Title(Quick ? "taskisol bench --quick" : "taskisol bench").AddColumn("Figure").AddColumn(new TableColumn("Value").RightAligned()).AddColumn("Unit").AddColumn("Target");
        foreach (var r in Rows)
        {
            IRenderable target = r.Target is { } t
                ? new Markup($"{(r.LowerIsBetter ? "≤" : "≥")} {Format(t)} {(r.Met == true ? "[green]met[/]" : "[red]missed[/]")}")
                : new Text(string.Empty);
            table.AddRow(new Text(r.What), new Text(Format(r.Value)), new Text(r.Unit), target);
        }

        console.Write(table);

        var kinds = new Table().Title("Default scenario: deliveries per simulated second, by message type").AddColumn("Message").AddColumn(new TableColumn("per sim s").RightAligned());
        foreach (var (type, rate) in DeliveriesPerSimSecondByType.OrderByDescending(kv => kv.Value))
        {
            kinds.AddRow(new Text(type), new Text(Format(rate)));
        }

        console.Write(kinds);

        var curve = new Table().Title("Scaling curve: 1/8 of the CPUs housekeeping (writer/mmap), the rest isolated pollers; controlled")
            .AddColumn(new TableColumn("CPUs").RightAligned()).AddColumn(new TableColumn("simulated s").RightAligned())
            .AddColumn(new TableColumn("deliveries/sim s").RightAligned()).AddColumn(new TableColumn("per CPU").RightAligned())
            .AddColumn(new TableColumn("compression").RightAligned()).AddColumn(new TableColumn("deliveries/wall s").RightAligned())
            .AddColumn(new TableColumn("boot ms").RightAligned());
        foreach (var p in Curve)
        {
            curve.AddRow(p.Cpus.ToString("N0", CultureInfo.InvariantCulture), Format(p.SimulatedNs / 1e9), Format(p.DeliveriesPerSimSecond), Format(p.DeliveriesPerSimSecondPerCpu), Format(p.Compression), Format(p.DeliveriesPerWallSecond), Format(p.Boot.TotalMilliseconds));
        }

        console.Write(curve);
        foreach (var n in NotMeasured)
        {
            console.Write(new Text($"Not measured: {n}\n"));
        }
    }

    /// <summary>Writes the JSON to <paramref name="path"/> atomically (<see cref="Reports.AtomicFile"/>).</summary>
    public void WriteJsonFile(string path) => Reports.AtomicFile.Write(path, WriteJson);

    /// <summary>The figures as one JSON object.</summary>
    public void WriteJson(Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions
        {
            Indented = true,
            NewLine = "\n",

            // Shown to people, not embedded in HTML: keep '+' and '<' readable.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        w.WriteStartObject();
        w.WriteString("tool", "taskisol bench");
        w.WriteBoolean("quick", Quick);
        w.WriteString("date", DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        w.WriteStartObject("host");
        w.WriteNumber("processors", Environment.ProcessorCount);
        w.WriteNumber("memoryBytes", GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        w.WriteString("runtime", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);
        w.WriteString("os", System.Runtime.InteropServices.RuntimeInformation.OSDescription);
        w.WriteEndObject();
        w.WriteStartArray("figures");
        foreach (var r in Rows)
        {
            w.WriteStartObject();
            w.WriteString("id", r.Id);
            w.WriteString("what", r.What.Trim());
            w.WriteNumber("value", r.Value);
            w.WriteString("unit", r.Unit);
            if (r.Target is { } t)
            {
                w.WriteNumber("target", t);
                w.WriteString("targetKind", r.LowerIsBetter ? "at most" : "at least");
                w.WriteBoolean("met", r.Met == true);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("deliveriesPerSimulatedSecondByType");
        foreach (var (type, rate) in DeliveriesPerSimSecondByType.OrderByDescending(kv => kv.Value))
        {
            w.WriteNumber(type, Math.Round(rate, 2));
        }

        w.WriteEndObject();
        w.WriteStartObject("eventsPerSimulatedSecondByType");
        foreach (var (type, rate) in EventsPerSimSecondByType.OrderByDescending(kv => kv.Value))
        {
            w.WriteNumber(type, Math.Round(rate, 2));
        }

        w.WriteEndObject();
        w.WriteStartArray("scaling");
        foreach (var p in Curve)
        {
            w.WriteStartObject();
            w.WriteNumber("cpus", p.Cpus);
            w.WriteNumber("housekeeping", p.Housekeeping);
            w.WriteNumber("simulatedNs", p.SimulatedNs);
            w.WriteNumber("deliveries", p.Deliveries);
            w.WriteNumber("deliveriesPerSimulatedSecond", p.DeliveriesPerSimSecond);
            w.WriteNumber("deliveriesPerSimulatedSecondPerCpu", p.DeliveriesPerSimSecondPerCpu);
            w.WriteNumber("compression", p.Compression);
            w.WriteNumber("deliveriesPerWallSecond", p.DeliveriesPerWallSecond);
            w.WriteNumber("wallSeconds", p.Wall.TotalSeconds);
            w.WriteNumber("cpuSeconds", p.Cpu.TotalSeconds);
            w.WriteNumber("bootSeconds", p.Boot.TotalSeconds);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteNumber("peakWorkingSetBytes", PeakWorkingSetBytes);
        w.WriteString("scaleMachine", ScaleMachine);
        w.WriteStartArray("notMeasured");
        foreach (var n in NotMeasured)
        {
            w.WriteStringValue(n);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static string Format(double v) => v switch
    {
        >= 100 => v.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => v.ToString("N1", CultureInfo.InvariantCulture),
        >= 0.01 or 0 => v.ToString("0.###", CultureInfo.InvariantCulture),
        _ => v.ToString("0.##e0", CultureInfo.InvariantCulture),
    };
}
