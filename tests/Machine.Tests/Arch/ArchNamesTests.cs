using TaskIsolation.Machine.Arch;
using ArchId = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Machine.Tests.Arch;

public class ArchNamesTests
{
    [Theory]
    [InlineData("x86_64", ArchId.X86_64)]
    [InlineData("arm64", ArchId.Arm64)]
    [InlineData("tile", ArchId.Tile)]
    [InlineData("ARM64", ArchId.Arm64)]
    public void Canonical_names_parse(string name, ArchId expected) => Assert.Equal(expected, ArchNames.Parse(name));

    [Theory]
    [InlineData(ArchId.X86_64, "x86_64")]
    [InlineData(ArchId.Arm64, "arm64")]
    [InlineData(ArchId.Tile, "tile")]
    public void Names_round_trip(ArchId arch, string name)
    {
        Assert.Equal(name, ArchNames.Name(arch));
        Assert.Equal(name, ArchInfo.For(arch).Name);
        Assert.Equal(arch, ArchNames.Parse(ArchNames.Name(arch)));
    }

    [Theory]
    [InlineData("x86")]
    [InlineData("aarch64")]
    [InlineData("")]
    public void Unknown_names_fail_with_a_format_exception_listing_the_valid_ones(string name)
    {
        Assert.False(ArchNames.TryParse(name, out _));
        var e = Assert.Throws<FormatException>(() => ArchNames.Parse(name));
        Assert.Contains("x86_64, arm64, tile", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_is_not_a_name()
    {
        Assert.False(ArchNames.TryParse(null, out _));
        Assert.Throws<ArgumentNullException>(() => ArchNames.Parse(null!));
    }
}
