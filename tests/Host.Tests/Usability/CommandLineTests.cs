namespace TaskIsolation.Host.Tests.Usability;

/// <summary>
/// A command line that helps (issue 18): did-you-mean for commands, options and built-in scenarios, an unknown option
/// never taken as a scenario, no .NET type name in a message, one type per option name, and shell completion through
/// the <c>[suggest:N]</c> directive that dotnet-suggest sends.
/// </summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData(new[] { "rnu" }, "taskisol: unknown command 'rnu'; did you mean 'run'?\nTry 'taskisol --help'.\n")]
    [InlineData(new[] { "explroe", "default" }, "taskisol: unknown command 'explroe'; did you mean 'explore'?\nTry 'taskisol --help'.\n")]
    [InlineData(new[] { "frobnicate" }, "taskisol: unknown command 'frobnicate'\nTry 'taskisol --help'.\n")]
    [InlineData(new[] { "run", "--sed", "3" }, "taskisol run: unknown option '--sed'; did you mean '--seed'?\nTry 'taskisol run --help'.\n")]
    [InlineData(new[] { "run", "--sed" }, "taskisol run: unknown option '--sed'; did you mean '--seed'?\nTry 'taskisol run --help'.\n")]
    [InlineData(new[] { "soak", "default", "--snapshot-evry", "1s" }, "taskisol soak: unknown option '--snapshot-evry'; did you mean '--snapshot-every'?\nTry 'taskisol soak --help'.\n")]
    [InlineData(new[] { "explore", "--itrations", "3", "default" }, "taskisol explore: unknown option '--itrations'; did you mean '--iterations'?\nTry 'taskisol explore --help'.\n")]
    [InlineData(new[] { "run", "--zzzzzz" }, "taskisol run: unknown option '--zzzzzz'\nTry 'taskisol run --help'.\n")]
    [InlineData(new[] { "run", "defualt" }, "taskisol run: no scenario file or built-in scenario named 'defualt'; did you mean 'default'? ('taskisol scenarios' lists the built-in ones)\n")]
    [InlineData(new[] { "soak", "r09-tlb-shotdown" }, "taskisol soak: no scenario file or built-in scenario named 'r09-tlb-shotdown'; did you mean 'r09-tlb-shootdown'? ('taskisol scenarios' lists the built-in ones)\n")]
    [InlineData(new[] { "explore", "no-such-thing" }, "taskisol explore: no scenario file or built-in scenario named 'no-such-thing' ('taskisol scenarios' lists the built-in ones)\n")]
    [InlineData(new[] { "run", "--seed", "abc" }, "taskisol run: --seed: found 'abc', expected a whole number\nTry 'taskisol run --help'.\n")]
    [InlineData(new[] { "explore", "default", "--seed", "abc" }, "taskisol explore: --seed: found 'abc', expected a whole number\nTry 'taskisol explore --help'.\n")]
    [InlineData(new[] { "soak", "default", "--seed", "99999999999999999999" }, "taskisol soak: --seed: '99999999999999999999' is out of range, expected a whole number from -9223372036854775808 to 9223372036854775807\nTry 'taskisol soak --help'.\n")]
    [InlineData(new[] { "explore", "default", "--depth", "4000000000" }, "taskisol explore: --depth: '4000000000' is out of range, expected a whole number from -2147483648 to 2147483647\nTry 'taskisol explore --help'.\n")]
    [InlineData(new[] { "boot", "--nr-cpus", "x" }, "taskisol boot: --nr-cpus: found 'x', expected a whole number\nTry 'taskisol boot --help'.\n")]
    [InlineData(new[] { "explore", "default", "--log", "x.clef" }, "taskisol explore: unknown option '--log': it is now '--node-log' (one name, one meaning across commands; see 'taskisol explore --help')\nTry 'taskisol explore --help'.\n")]
    [InlineData(new[] { "bench", "--json", "b.json" }, "taskisol bench: unknown option '--json': it is now '--report' (one name, one meaning across commands; see 'taskisol bench --help')\nTry 'taskisol bench --help'.\n")]
    [InlineData(new[] { "run", "default", "extra" }, "taskisol run: unexpected argument 'extra'\nTry 'taskisol run --help'.\n")]
    public void Bad_command_lines_get_one_exact_line_and_exit_2(string[] args, string stderr)
    {
        var r = Taskisol.Run(args);

        Assert.Equal(2, r.Exit);
        Assert.Equal(stderr, r.Err);
        Assert.Equal(string.Empty, r.Out);
    }

    [Fact]
    public void A_seed_means_the_same_run_in_32_bits_and_folds_above()
    {
        Assert.Equal(7, CliOptions.RunSeed(7));
        Assert.Equal(-7, CliOptions.RunSeed(-7));
        Assert.Equal(int.MaxValue, CliOptions.RunSeed(int.MaxValue));
        Assert.Equal(1 ^ 1, CliOptions.RunSeed((1L << 32) | 1));
        Assert.NotEqual(CliOptions.RunSeed(1L << 40), CliOptions.RunSeed(1L << 41));
    }

    [Fact]
    public void Run_takes_a_64_bit_seed_and_same_seed_gives_the_same_run()
    {
        var a = Taskisol.Run("run", "default", "--duration", "5ms", "--seed", "5000000000");
        var b = Taskisol.Run("run", "default", "--duration", "5ms", "--seed", "5000000000");

        Assert.Equal(0, a.Exit);
        Assert.Equal(a.Out.Split('\n').Where(l => !l.Contains(" simulated in ", StringComparison.Ordinal)), b.Out.Split('\n').Where(l => !l.Contains(" simulated in ", StringComparison.Ordinal)));
        Assert.Contains("seed 705032705", a.Out, StringComparison.Ordinal);
    }

    public static TheoryData<string> CommandNames() => [.. Host.Cli.BuildRoot().Subcommands.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void Each_command_help_has_a_purpose_its_exit_codes_and_an_example_that_parses(string name)
    {
        var r = Taskisol.Run(name, "--help");

        Assert.Equal(0, r.Exit);
        var lines = r.Out.Split('\n');
        Assert.Equal("Description:", lines[0]);
        Assert.EndsWith(".", lines[1].TrimEnd(), StringComparison.Ordinal);
        Assert.Contains("  Exit codes: 0 ", r.Out, StringComparison.Ordinal);
        Assert.Contains("2 bad input, 3 internal error.", r.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", r.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("(default", StringComparison.Ordinal) && l.Contains("[default:", StringComparison.Ordinal));
        var example = Assert.Single(lines, l => l.StartsWith("  Example: taskisol " + name, StringComparison.Ordinal));

        var words = Docs.ShellWords.Split(example["  Example: taskisol ".Length..]).Select(w => w.Text).ToArray();
        var parse = Host.Cli.BuildRoot().Parse(words);
        Assert.Empty(parse.Errors);
        Assert.Empty(Host.Cli.Errors(parse));
        Assert.Equal(name, parse.CommandResult.Command.Name);
    }

    [Fact]
    public void Every_option_has_a_meaningful_placeholder_and_says_its_default_once()
    {
        foreach (var command in Host.Cli.BuildRoot().Subcommands)
        {
            foreach (var option in command.Options.Where(o => o is not System.CommandLine.Help.HelpOption && o.ValueType != typeof(bool)))
            {
                var where = $"{command.Name} {option.Name}";
                Assert.False(string.IsNullOrEmpty(option.HelpName), $"{where} has no placeholder");
                Assert.NotEqual(option.Name.TrimStart('-'), option.HelpName);
                Assert.True(option.HelpName!.ToUpperInvariant() == option.HelpName || option.HelpName.Contains('|', StringComparison.Ordinal), $"{where}: <{option.HelpName}>");
                Assert.False(option.HasDefaultValue && option.Description!.Contains("default", StringComparison.OrdinalIgnoreCase), $"{where} says its default twice");
            }
        }
    }

    [Fact]
    public void An_option_name_has_one_type_and_one_placeholder_in_every_command()
    {
        var options = Host.Cli.BuildRoot().Subcommands
            .SelectMany(c => c.Options.Where(o => o is not System.CommandLine.Help.HelpOption).Select(o => (Command: c.Name, Option: o)))
            .GroupBy(x => x.Option.Name);
        foreach (var same in options)
        {
            var forms = same.Select(x => (Type: Nullable.GetUnderlyingType(x.Option.ValueType) ?? x.Option.ValueType, x.Option.HelpName)).Distinct().ToList();
            Assert.True(forms.Count == 1, $"{same.Key} differs across {string.Join(", ", same.Select(x => x.Command))}: {string.Join("; ", forms)}");
        }

        Assert.All(Host.Cli.BuildRoot().Subcommands.Where(c => c.Options.Any(o => o.Name == "--seed")), c => Assert.Equal(typeof(long), c.Options.Single(o => o.Name == "--seed").ValueType));
    }

    [Theory]
    [InlineData("[suggest:7]", "run def", "default\n")]
    [InlineData("[suggest:11]", "explore r09", "r09-tlb-shootdown\nr09-tlb-shootdown-mitigated\n")]
    [InlineData("[suggest:8]", "soak sel", "selftest-01-sysfs\nselftest-02-affinity\nselftest-03-cpu0\nselftest-04-page-fault\nselftest-05-syscall\nselftest-06-tlb-shootdown\nselftest-06-tlb-shootdown-arm64\nselftest-07-unaligned\nselftest-08-disable\nselftest-09-nosig\nselftest-10-nosig-migrate\nselftest-11-jitter\n")]
    [InlineData("[suggest:2]", "ex", "explore\n")]
    [InlineData("[suggest:13]", "run --mode co", "concurrent\ncontrolled\n")]
    [InlineData("[suggest:8]", "run --no", "--noise-cpus\n")]
    public void Completion_through_the_suggest_directive_names_commands_options_and_built_in_scenarios(string directive, string line, string expected)
    {
        var r = Taskisol.Run(directive, line);

        Assert.Equal(0, r.Exit);
        Assert.Equal(expected, r.Out);
        Assert.Equal(string.Empty, r.Err);
    }
}
