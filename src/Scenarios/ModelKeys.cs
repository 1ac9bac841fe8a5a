using System.Collections.Immutable;
using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Scenarios;

/// <summary>
/// The scenario keys of the model's switches and timings (<c>model:</c> and <c>model: timings:</c> in
/// docs/scenarios.md), each with how to read and set its property: the one table the loader accepts, the writer writes
/// (in this order) and docs/scenario.schema.json lists. A property added to <see cref="ModelSwitches"/> or
/// <see cref="ModelTimings"/> needs its row here; a test checks none is missing.
/// </summary>
internal static class ModelKeys
{
    /// <summary>The mitigation switches of docs/model.md §9: booleans, written <c>true</c>/<c>false</c>.</summary>
    public static ImmutableArray<SwitchKey> Switches { get; } =
    [
        new("shepherd_skips_isolated", s => s.ShepherdSkipsIsolated, (s, on) => s with { ShepherdSkipsIsolated = on }),
        new("no_new_deferred_work", s => s.NoNewDeferredWork, (s, on) => s with { NoNewDeferredWork = on }),
        new("targeted_tick_dep_kick", s => s.TargetedTickDepKick, (s, on) => s with { TargetedTickDepKick = on }),
        new("deferred_tlb_flush", s => s.DeferredTlbFlush, (s, on) => s with { DeferredTlbFlush = on }),
        new("tile_oneshot_stopped_fix", s => s.TileOneshotStoppedFix, (s, on) => s with { TileOneshotStoppedFix = on }),
    ];

    /// <summary>The timings: durations (<c>1.5us</c>) but for <c>ipi_jitter_steps</c>, a count.</summary>
    public static ImmutableArray<TimingKey> Timings { get; } =
    [
        new("ipi_latency", t => t.IpiLatencyNs, (t, ns) => t with { IpiLatencyNs = ns }),
        new("ipi_jitter", t => t.IpiJitterNs, (t, ns) => t with { IpiJitterNs = ns }),
        new("ipi_jitter_steps", t => t.IpiJitterSteps, (t, n) => t with { IpiJitterSteps = (int)n }, IsCount: true),
        new("tick_handler", t => t.TickHandlerNs, (t, ns) => t with { TickHandlerNs = ns }),
        new("ipi_handler", t => t.IpiHandlerNs, (t, ns) => t with { IpiHandlerNs = ns }),
        new("device_irq_handler", t => t.DeviceIrqHandlerNs, (t, ns) => t with { DeviceIrqHandlerNs = ns }),
        new("nmi_handler", t => t.NmiHandlerNs, (t, ns) => t with { NmiHandlerNs = ns }),
        new("syscall_entry", t => t.SyscallEntryNs, (t, ns) => t with { SyscallEntryNs = ns }),
        new("page_fault", t => t.PageFaultNs, (t, ns) => t with { PageFaultNs = ns }),
        new("return_enter", t => t.ReturnEnterNs, (t, ns) => t with { ReturnEnterNs = ns }, NonZeroBecause: "an isolated task waiting in the return-to-user loop would go round it at one instant for ever"),
        new("unaligned_fixup", t => t.UnalignedFixupNs, (t, ns) => t with { UnalignedFixupNs = ns }),
        new("unaligned_hardware", t => t.UnalignedHardwareNs, (t, ns) => t with { UnalignedHardwareNs = ns }, NonZeroBecause: "a loop of misaligned accesses would run in user space at one instant for ever"),
        new("return_ready", t => t.ReturnReadyNs, (t, ns) => t with { ReturnReadyNs = ns }),
        new("return_to_user", t => t.ReturnToUserNs, (t, ns) => t with { ReturnToUserNs = ns }, NonZeroBecause: "a loop of system calls or exceptions would go round at one instant for ever"),
        new("context_switch", t => t.ContextSwitchNs, (t, ns) => t with { ContextSwitchNs = ns }),
        new("vmstat_work", t => t.VmstatWorkNs, (t, ns) => t with { VmstatWorkNs = ns }),
        new("lru_drain_work", t => t.LruDrainWorkNs, (t, ns) => t with { LruDrainWorkNs = ns }),
        new("tlb_flush", t => t.TlbFlushNs, (t, ns) => t with { TlbFlushNs = ns }),
        new("time_slice", t => t.TimeSliceNs, (t, ns) => t with { TimeSliceNs = ns }),
        new("prctl", t => t.PrctlNs, (t, ns) => t with { PrctlNs = ns }),
        new("mmap", t => t.MmapNs, (t, ns) => t with { MmapNs = ns }),
        new("mlock", t => t.MlockNs, (t, ns) => t with { MlockNs = ns }),
        new("nanosleep", t => t.NanosleepNs, (t, ns) => t with { NanosleepNs = ns }),
        new("kill", t => t.KillNs, (t, ns) => t with { KillNs = ns }),
        new("rt_sigaction", t => t.RtSigactionNs, (t, ns) => t with { RtSigactionNs = ns }),
        new("rt_sigreturn", t => t.RtSigreturnNs, (t, ns) => t with { RtSigreturnNs = ns }),
        new("copy_process", t => t.CopyProcessNs, (t, ns) => t with { CopyProcessNs = ns }),
        new("wait4", t => t.Wait4Ns, (t, ns) => t with { Wait4Ns = ns }),
        new("timer_settime", t => t.TimerSettimeNs, (t, ns) => t with { TimerSettimeNs = ns }),
        new("sched_setaffinity", t => t.SchedSetaffinityNs, (t, ns) => t with { SchedSetaffinityNs = ns }),
        new("sched_setaffinity_other", t => t.SchedSetaffinityOtherNs, (t, ns) => t with { SchedSetaffinityOtherNs = ns }),
        new("sched_setaffinity_no_task", t => t.SchedSetaffinityNoTaskNs, (t, ns) => t with { SchedSetaffinityNoTaskNs = ns }),
        new("sched_setaffinity_bad_mask", t => t.SchedSetaffinityBadMaskNs, (t, ns) => t with { SchedSetaffinityBadMaskNs = ns }),
        new("residual_tick_max_deferment", t => t.ResidualTickMaxDefermentNs, (t, ns) => t with { ResidualTickMaxDefermentNs = ns }),
    ];
}

/// <summary>One switch of <c>model:</c>.</summary>
/// <param name="Key">Its key in the file.</param>
/// <param name="Get">Its value in a <see cref="ModelSwitches"/>.</param>
/// <param name="Set">A copy with it set.</param>
internal sealed record SwitchKey(string Key, Func<ModelSwitches, bool> Get, Func<ModelSwitches, bool, ModelSwitches> Set);

/// <summary>One key of <c>model: timings:</c>.</summary>
/// <param name="Key">Its key in the file: the property's name in snake case without <c>_ns</c>.</param>
/// <param name="Get">Its value in a <see cref="ModelTimings"/>, in nanoseconds (or the count).</param>
/// <param name="Set">A copy with it set.</param>
/// <param name="IsCount">A plain number from 1 to 1024, not a duration.</param>
/// <param name="NonZeroBecause">
/// Set for a cost every loop of some program pays and nothing else does: 0 would let that loop run at one simulated
/// instant for ever (found by running each looping program with every timing 0 but one), so the loader refuses it and
/// says why. Null: 0 is allowed.
/// </param>
internal sealed record TimingKey(string Key, Func<ModelTimings, long> Get, Func<ModelTimings, long, ModelTimings> Set, bool IsCount = false, string? NonZeroBecause = null);
