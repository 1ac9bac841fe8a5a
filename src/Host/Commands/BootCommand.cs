using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>taskisol boot --nr-cpus N [--arch A] [--config NAME=VALUE]... [--cmdline "..."] [--json]</c>: boots a machine
/// (docs/model.md §2) and prints the kernel's boot messages, then the sysfs CPU files.
/// </summary>
internal static class BootCommand
{
    public static Command Create()
    {
        var cpus = CliOptions.Number<int>("--nr-cpus", $"Number of CPUs, 1 to {CpuMask.MaxBits}; CPU 0 is the boot CPU", "N");
        cpus.Required = true;
        var arch = new Option<string>("--arch")
        {
            Description = $"Architecture: {string.Join(", ", ArchNames.All)}",
            DefaultValueFactory = _ => ArchNames.Name(Arch.X86_64),
            HelpName = string.Join('|', ArchNames.All),
        };
        arch.CompletionSources.Add([.. ArchNames.All]);
        var config = new Option<string[]>("--config")
        {
            Description = "A Kconfig option, NAME=VALUE (NO_HZ_FULL, TASK_ISOLATION, TASK_ISOLATION_ALL, RCU_NOCB_CPU: y or n; "
                + "HZ: 100, 250, 300 or 1000); repeat for several. Defaults: NO_HZ_FULL=y TASK_ISOLATION=y "
                + "TASK_ISOLATION_ALL=n HZ=1000 RCU_NOCB_CPU=y",
            AllowMultipleArgumentsPerToken = false,
            HelpName = "NAME=VALUE",
        };
        var cmdline = new Option<string>("--cmdline")
        {
            Description = "The kernel command line, e.g. \"nohz_full=1-7 isolcpus=1-7 task_isolation=1-7\" "
                + "(write --cmdline=-- for a line that is just '--')",
            DefaultValueFactory = _ => string.Empty,
            HelpName = "LINE",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: log, sysfs and unknown parameters" };

        var command = new Command("boot", ExitCodes.Describe("Boot a machine and print its boot log and sysfs CPU files", "booted", null, "taskisol boot --nr-cpus 8 --cmdline \"nohz_full=1-7 isolcpus=1-7 task_isolation=1-7\""))
        {
            cpus,
            arch,
            config,
            cmdline,
            json,
        };
        command.SetAction(parse =>
        {
            var nrCpus = parse.GetValue(cpus);
            if (nrCpus < 1 || nrCpus > CpuMask.MaxBits)
            {
                throw new UsageException($"--nr-cpus must be between 1 and {CpuMask.MaxBits}, not {nrCpus}");
            }

            if (!ArchNames.TryParse(parse.GetValue(arch), out var machineArch))
            {
                throw new UsageException(
                    $"--arch: unknown architecture '{parse.GetValue(arch)}' (expected one of: {string.Join(", ", ArchNames.All)})");
            }

            KernelConfig kconfig;
            try
            {
                kconfig = KernelConfig.Parse(parse.GetValue(config) ?? [], machineArch);
            }
            catch (ConfigException ex)
            {
                throw new UsageException($"--config: {ex.Message}", ex);
            }

            var machine = BootedMachine.Boot(nrCpus, machineArch, kconfig, parse.GetValue(cmdline) ?? string.Empty);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                WriteJson(machine, output);
            }
            else
            {
                WriteText(machine, output);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The log in dmesg form, then <c>path: list</c> per sysfs file (no trailing space for an empty set).</summary>
    private static void WriteText(BootedMachine machine, TextWriter output)
    {
        foreach (var line in machine.Log)
        {
            output.WriteLine(line.ToString());
        }

        foreach (var file in machine.SysfsFiles)
        {
            var list = file.Contents.TrimEnd('\n');
            output.WriteLine(list.Length == 0 ? $"{file.Path}:" : $"{file.Path}: {list}");
        }
    }

    /// <summary>
    /// <c>{"log": [...], "sysfs": {"possible": "0-7\n", ...}, "cmdline": {"unknown": [...]}}</c>, indented with
    /// "\n" line ends on every platform; sysfs values exactly as a read returns them, newline included.
    /// </summary>
    private static void WriteJson(BootedMachine machine, TextWriter output)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = true,
            NewLine = "\n",

            // Kernel text is shown, not embedded in HTML: keep '<', '>', '&', '\'' and '+' readable.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("log");
            foreach (var line in machine.Log)
            {
                writer.WriteStringValue(line.ToString());
            }

            writer.WriteEndArray();
            writer.WriteStartObject("sysfs");
            foreach (var file in machine.SysfsFiles)
            {
                writer.WriteString(file.Name, file.Contents);
            }

            writer.WriteEndObject();
            writer.WriteStartObject("cmdline");
            writer.WriteStartArray("unknown");
            foreach (var parameter in machine.UnknownParameters)
            {
                writer.WriteStringValue(parameter.ToString());
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
