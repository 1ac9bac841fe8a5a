using System.Text;

namespace TaskIsolation.Host.Tests.Fuzz;

/// <summary>
/// Odd command lines for every command: each option present or not, with a good value or an odd one (empty, blank,
/// negative, with an underscore or exponent, too large, a line separator, a path that cannot be written or is an
/// input). Commands that run until stopped (<c>worker</c>) or for minutes (<c>bench</c>) get lines that must be
/// refused before they start.
/// </summary>
public sealed class CommandLineSource : IFuzzSource
{
    private static readonly string[] Odd =
        ["", " ", "-1", "0", "1_000", "1e3", "0x10", "99999999999999999999", "NaN", "\u2028", "a\nb", "-", "x", new string('9', 300), "é", "@x", "\t1"];

    public string Name => "command lines";

    public int NormalCount => 90;

    public FuzzCase? Make(int index, Random random, string dir, out string? skipped)
    {
        ArgumentNullException.ThrowIfNull(random);
        skipped = null;
        var line = new Line(random, dir);
        var which = random.Next(100);
        switch (which)
        {
            case < 22: line.Run(); break;
            case < 32: line.Soak(); break;
            case < 44: line.Explore(); break;
            case < 56: line.Replay(); break;
            case < 62: line.Minimize(); break;
            case < 70: line.Boot(); break;
            case < 76: line.Cpulist(); break;
            case < 78: line.Args.Add("scenarios"); break;
            case < 84: line.Bench(); break;
            case < 94: line.Worker(); break;
            default: line.Cluster(); break;
        }

        switch (random.Next(25))
        {
            case 0:
                // An unknown option shifts what follows: the error may name any word after it.
                var unknown = random.Next(1, line.Args.Count + 1);
                line.Args.Insert(unknown, "--nope");
                line.Names.AddRange(line.Args.Skip(unknown).Select(a => a.Length == 0 ? "''" : a));
                break;
            case 1:
                line.Args.Add("extra");
                line.Names.Add("extra");
                break;
            case 2:
                // After '--' every word is an argument: the error names one of them.
                var at = random.Next(1, line.Args.Count + 1);
                line.Args.Insert(at, "--");
                line.Names.AddRange(line.Args.Skip(at + 1).Select(a => a.Length == 0 ? "''" : a).Append("'--'"));
                break;
        }

        return new FuzzCase([.. line.Args])
        {
            What = line.Args[0],
            Inputs = line.Inputs,
            Outputs = line.Outputs,
            Names = line.Names.Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).ToList(),
        };
    }

    /// <summary>A command line being built, with its inputs, outputs and the names an error may give.</summary>
    private sealed class Line(Random r, string dir)
    {
        public List<string> Args { get; } = [];

        public List<string> Inputs { get; } = [];

        public List<string> Outputs { get; } = [];

        public List<string> Names { get; } = [];

        public void Run()
        {
            Args.Add("run");
            Positional("scenario", Scenario());
            Option("--seed", "1", "2", "-7");
            Option("--mode", force: r.Next(4) == 0, "controlled", "concurrent");
            Option("--duration", force: true, "1ms", "500us", "2ms");
            Flag("--quiet");
            foreach (var o in new[] { "--report", "--trace", "--ftrace", "--log" })
            {
                if (r.Next(3) == 0)
                {
                    FileOut(o);
                }
            }
        }

        public void Soak()
        {
            Args.Add("soak");
            Positional("scenario", Scenario());
            Option("--for", force: true, "2ms", "5ms");
            Option("--snapshot-every", "1ms", "2ms");
            Option("--wall", "30s");
            Option("--mode", "controlled", "concurrent");
            Option("--seed", "1", "3");
            DirOut("--out", force: true);
        }

        public void Explore()
        {
            Args.Add("explore");
            Positional("scenario", Scenario());
            Option("--iterations", force: true, "1", "2", "3");
            Option("--workers", force: true, "1", "2");
            Option("--strategy", "random", "pct", "portfolio");
            Option("--max-steps", "20000", "5");
            Option("--depth", "1", "3");
            Option("--seed", "1", "9");
            Option("--until", "first", "all");
            if (r.Next(2) == 0)
            {
                DirOut("--out");
            }
        }

        public void Replay()
        {
            Args.Add("replay");
            Positional("reproducer", Reproducer());
            if (r.Next(3) == 0)
            {
                FileOut("--trace");
            }

            if (r.Next(3) == 0)
            {
                FileOut("--ftrace");
            }

            Flag("--check");
        }

        public void Minimize()
        {
            Args.Add("minimize");
            var repro = Reproducer();
            Positional("reproducer", repro);
            Option("--max-runs", force: true, "2", "4");
            if (!DirOut("--out") && repro.Length > 0)
            {
                // Without --out, the minimized files go next to the reproducer.
                Outputs.Add(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(repro))!, "minimized"));
            }
        }

        public void Boot()
        {
            Args.Add("boot");
            Option("--nr-cpus", force: true, "1", "4", "64");
            Option("--arch", "x86_64", "arm64", "tile");
            Option("--config", "HZ=100", "NO_HZ_FULL=n");
            Option("--cmdline", "nohz_full=1-3 task_isolation=1-3", "isolcpus=2");
            Flag("--json");
        }

        public void Cpulist()
        {
            Args.Add("cpulist");
            Option("--nbits", "8", "64");
            Flag("--mask");
            Args.Add("--");
            Positional("LIST", r.Next(3) == 0 ? r.Pick(Odd) : r.Pick(["0-3", "1,3-5:1/2", "N", "all"]));
        }

        /// <summary>The bench runs for minutes: only a --report it must refuse before measuring.</summary>
        public void Bench()
        {
            Args.AddRange(["bench", "--quick", "--report"]);
            var path = r.Pick(BadFilePaths());
            Args.Add(path);
            Outputs.Add(path);
            Names.AddRange(["--report", path]);
        }

        /// <summary>A worker serves until stopped: a good line with one bad option, which must be refused before it starts.</summary>
        public void Worker()
        {
            Args.AddRange(["worker", "--seed-node", "akka.tcp://taskisol@127.0.0.1:1", "--port", "0", "--once"]);
            var (option, value) = r.Next(8) switch
            {
                0 => ("--cluster-config", r.Pick(BadConfigs())),
                1 => ("--host", r.Pick(["1_000", "", "a b", "-", "\u2028", "999.1.1.1.1", "[::1"])),
                2 => ("--port", r.Pick(["-1", "70000", "x", ""])),
                3 => ("--slots", r.Pick(["0", "-1", "2000", "x"])),
                4 => ("--seed-node", r.Pick(["x", "", "akka.tcp://other@127.0.0.1:1", "akka.tcp://taskisol@:1", "akka.tcp://taskisol@127.0.0.1:99999"])),
                5 => ("--log-level", r.Pick(["x", "", "INFO"])),
                6 => ("--node-log", r.Pick(BadFilePaths())),
                _ => ("--public-host", r.Pick(["", "a b", "\u2028"])),
            };
            Args.AddRange([option, value]);
            Names.AddRange([option, value]);
            if (option == "--node-log")
            {
                Outputs.Add(value);
            }
        }

        /// <summary>A coordinator that is also its own worker (<c>--workers 1</c>) finishes alone; its node options fuzzed.</summary>
        public void Cluster()
        {
            Args.Add("explore");
            Positional("scenario", Fixtures.WriteScenario(dir));
            Args.AddRange(["--cluster", "--workers", "1", "--iterations", "2", "--port", "0", "--log-level", "error"]);
            switch (r.Next(4))
            {
                case 0:
                    FileOut("--journal");
                    break;
                case 1:
                    FileOut("--node-log");
                    break;
                case 2:
                    var config = r.Pick(BadConfigs().Append(Write("good.conf", "akka.loglevel = ERROR\n")).ToList());
                    Args.AddRange(["--cluster-config", config]);
                    Names.AddRange(["--cluster-config", config]);
                    break;
                default:
                    Option("--host", force: true, "127.0.0.1");
                    break;
            }
        }

        private string Scenario() => r.Next(10) switch
        {
            < 5 => Input(Fixtures.WriteScenario(dir)),
            5 => "default",
            6 => Input(Write("latin1.yaml", "name: caf\xe9\n", Encoding.Latin1)),
            7 => r.Pick(["", "no-such-scenario", dir, Path.Combine(dir, "missing.yaml"), "-"]),
            _ => Input(Write("odd.yaml", "name: \"a\u2028b\"\ncpus: 4\nduration: 1ms\n")),
        };

        private string Reproducer() => r.Next(8) switch
        {
            < 5 => Input(Fixtures.WriteReproducer(dir)),
            5 => Input(Fixtures.WriteScenario(dir)),
            6 => Input(Write("bytes.json", "{\"format\": \"taskisol-reproducer/1\xff\"}", Encoding.Latin1)),
            _ => r.Pick(["", Path.Combine(dir, "missing.json"), dir]),
        };

        private string Input(string path)
        {
            if (!Inputs.Contains(path))
            {
                Inputs.Add(path);
            }

            return path;
        }

        private void Positional(string name, string value)
        {
            Args.Add(value);
            Names.Add(value);
            Names.Add(name);
        }

        private void Option(string name, params string[] good) => Option(name, force: false, good);

        private void Option(string name, bool force, params string[] good)
        {
            if (!force && r.Next(2) == 0)
            {
                return;
            }

            var value = r.Next(5) == 0 ? r.Pick(Odd) : r.Pick(good);
            Args.AddRange([name, value]);
            Names.AddRange([name, value]);
        }

        private void Flag(string name)
        {
            if (r.Next(2) == 0)
            {
                Args.Add(name);
            }
        }

        private void FileOut(string option)
        {
            var value = r.Next(3) == 0 ? r.Pick(BadFilePaths()) : Path.Combine(dir, $"out{Outputs.Count}.txt");
            Args.AddRange([option, value]);
            Names.AddRange([option, value]);
            Outputs.Add(value);
        }

        private bool DirOut(string option, bool force = false)
        {
            if (!force && r.Next(2) == 0)
            {
                return false;
            }

            var value = r.Next(3) == 0
                ? r.Pick(["", "/proc/self/d", Path.Combine(Write("file", "x"), "x"), Path.Combine(dir, "a\u2028b"), .. Inputs])
                : Path.Combine(dir, r.Next(2) == 0 ? "out" : Path.Combine("new", "deeper"));
            Args.AddRange([option, value]);
            Names.AddRange([option, value]);
            Outputs.Add(value);

            // Missing parents are made too.
            Outputs.Add(Path.Combine(dir, "new"));
            return true;
        }

        /// <summary>Output files that must be refused: empty, a directory, a missing directory, /proc, a line separator, and the command's input.</summary>
        private List<string> BadFilePaths() =>
        [
            "", dir, Path.Combine(dir, "missing", "x.json"), "/proc/self/x.json", Path.Combine(dir, "x\u2028y", "z.json"), .. Inputs,
        ];

        private List<string> BadConfigs() =>
        [
            "", Path.Combine(dir, "missing.conf"), dir, Write("bad.conf", "akka { cluster = [\n"), Write("bin.conf", "a = \"\xff\"\n", Encoding.Latin1),
        ];

        private string Write(string name, string text, Encoding? encoding = null)
        {
            var path = Path.Combine(dir, name);
            File.WriteAllBytes(path, (encoding ?? new UTF8Encoding(false)).GetBytes(text));
            return path;
        }
    }
}
