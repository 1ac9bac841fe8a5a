using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace TaskIsolation.Host.Tests;

/// <summary>Whatever a user types, taskisol answers with 0 or 2, never with an internal error.</summary>
public class InputProperties
{
    [Property(MaxTest = 200, Arbitrary = [typeof(ArgumentArbitraries)])]
    public bool Any_cpulist_argument_exits_0_or_2(CpulistArgs input)
    {
        var r = Taskisol.Run(["cpulist", "--nbits", input.NBits, "--", input.List]);
        return (r.Exit == 0 && r.Err.Length == 0) || (r.Exit == 2 && r.Err.StartsWith("taskisol cpulist: ", StringComparison.Ordinal));
    }

    [Property(MaxTest = 200, Arbitrary = [typeof(ArgumentArbitraries)])]
    public bool Any_boot_command_line_exits_0(BootArgs input)
    {
        // A separate argument that is exactly "--" ends the options, and "--cmdline=" with nothing after it has
        // no value: so the '=' form, except for the empty line.
        string[] cmdline = input.CommandLine.Length == 0 ? ["--cmdline", ""] : ["--cmdline=" + input.CommandLine];
        return Taskisol.Run(["boot", "--nr-cpus", input.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture), .. cmdline]).Exit == 0;
    }
}

public sealed record CpulistArgs(string NBits, string List);

public sealed record BootArgs(int Cpus, string CommandLine);

public static class ArgumentArbitraries
{
    public static Arbitrary<CpulistArgs> Cpulist()
    {
        var nbits = Gen.OneOf(Gen.Choose(-2, 9000).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), Gen.Elements("", "x", "1e3", "64"));
        return Arb.From(
            from n in nbits
            from list in Text("0123456789-,:/ N\nallx")
            select new CpulistArgs(n, list));
    }

    public static Arbitrary<BootArgs> Boot()
    {
        var word = Gen.Elements(
            "task_isolation=", "nohz_full=", "isolcpus=", "isolcpus=nohz,", "isolcpus=domain,managed_irq,", "rcu_nocbs=",
            "irqaffinity=", "task_isolation_debug", "quiet", "--", "\"", " ", "=", "0-3", "1-N", "all", "x", ",", "9999");
        return Arb.From(
            from cpus in Gen.Choose(1, 64)
            from words in Gen.ListOf(word)
            select new BootArgs(cpus, string.Concat(words)));
    }

    private static Gen<string> Text(string alphabet) =>
        Gen.ListOf(Gen.Frequency((8, Gen.Elements(alphabet.ToCharArray())), (1, Gen.Choose(0, 0xFFFF).Select(c => (char)c))))
            .Select(chars => new string([.. chars]));
}
