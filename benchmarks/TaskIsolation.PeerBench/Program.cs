using System.Globalization;
using TaskIsolation.PeerBench;

// taskisol-peerbench [--iterations N] [--seeds K] [--first-cap M] [--report FILE]: the peer stage of the bench
// (docs/performance.md, "The peer in the same run").
return PeerCli.Run(args, Console.Out, Console.Error);

namespace TaskIsolation.PeerBench
{
    /// <summary>The command line: bad input gets one line naming what and where, and exit code 2.</summary>
    internal static class PeerCli
    {
        public static int Run(string[] args, TextWriter output, TextWriter error)
        {
            var settings = new PeerSettings();
            string? report = null;
            for (var i = 0; i < args.Length; i++)
            {
                var name = args[i];
                if (name is "-h" or "--help")
                {
                    output.WriteLine("usage: taskisol-peerbench [--iterations N] [--seeds K] [--first-cap M] [--report FILE]");
                    return 0;
                }

                if (name is not ("--iterations" or "--seeds" or "--first-cap" or "--report"))
                {
                    error.WriteLine($"taskisol-peerbench: unknown argument '{name}' (expected --iterations, --seeds, --first-cap or --report)");
                    return 2;
                }

                if (i + 1 >= args.Length)
                {
                    error.WriteLine($"taskisol-peerbench: {name} needs a value");
                    return 2;
                }

                var value = args[++i];
                if (name == "--report")
                {
                    var dir = Path.GetDirectoryName(Path.GetFullPath(value));
                    if (dir is null || !Directory.Exists(dir))
                    {
                        error.WriteLine($"taskisol-peerbench: --report '{value}': directory '{dir}' does not exist");
                        return 2;
                    }

                    report = value;
                    continue;
                }

                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
                {
                    error.WriteLine($"taskisol-peerbench: {name} '{value}' is not a positive whole number");
                    return 2;
                }

                settings = name switch
                {
                    "--iterations" => settings with { Iterations = n },
                    "--seeds" => settings with { Seeds = n },
                    _ => settings with { FirstCap = n },
                };
            }

            var result = PeerRun.Run(settings, error);
            result.WriteTable(output);
            if (report is not null)
            {
                var temp = report + ".tmp";
                using (var stream = File.Create(temp))
                {
                    result.WriteJson(stream);
                }

                File.Move(temp, report, overwrite: true);
                output.WriteLine($"figures written to {report}");
            }

            return 0;
        }
    }
}
