using System.CommandLine;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>taskisol cpulist [--nbits N] [--mask] [--] LIST</c>: parses a CPU list as the kernel does (docs/model.md §3) and
/// prints it back in the kernel's list form (<c>%*pbl</c>) or, with <c>--mask</c>, its hex form (<c>%*pb</c>).
/// </summary>
internal static class CpulistCommand
{
    public static Command Create()
    {
        var nbits = CliOptions.Number<int>("--nbits", $"Mask size in bits (number of CPUs), 1 to {CpuMask.MaxBits}", "N", 64);
        var mask = new Option<bool>("--mask") { Description = "Print the hex mask form (%*pb) instead of the list" };
        var list = new Argument<string>("LIST")
        {
            Description = "The CPU list, e.g. 0-3,8-15:2/4 (put '--' before a list that starts with '-')",
        };

        var command = new Command("cpulist", ExitCodes.Describe("Parse a CPU list as the kernel does and print it back", "parsed", null, "taskisol cpulist --nbits 16 --mask 0-7:2/4,N"))
        {
            nbits,
            mask,
            list,
        };
        command.SetAction(parse =>
        {
            var size = parse.GetValue(nbits);
            if (size < 1 || size > CpuMask.MaxBits)
            {
                throw new UsageException($"--nbits must be between 1 and {CpuMask.MaxBits}, not {size}");
            }

            var result = CpuList.Parse(parse.GetRequiredValue(list), size);
            if (!result.IsSuccess)
            {
                throw new UsageException($"invalid CPU list: {result.Describe()}");
            }

            parse.InvocationConfiguration.Output.WriteLine(parse.GetValue(mask) ? result.Mask.ToHex() : result.Mask.ToList());
            return ExitCodes.Ok;
        });
        return command;
    }
}
