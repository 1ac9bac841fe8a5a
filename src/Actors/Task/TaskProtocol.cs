using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Task;

/// <summary>Messages between a task's user space (its <see cref="TaskActor"/>) and the CPU that runs it.</summary>
internal interface ITaskProtocol : IMachineMessage;

/// <summary>
/// CPU → task: you are in user mode; your previous step finished with <paramref name="Result"/> (a syscall's
/// return value, 0 after compute). Reply with the next step, tagged <paramref name="Seq"/>.
/// </summary>
internal sealed record ResumeUser(long Cause, int Pid, long Seq, long Result) : ITaskProtocol;

/// <summary>CPU → task: a caught signal is being delivered; run its handler, then <c>rt_sigreturn</c>.</summary>
internal sealed record EnterHandler(long Cause, int Pid, long Seq, int Signal) : ITaskProtocol;

/// <summary>Task → CPU: the next step (<see cref="Exit"/> when the program has ended).</summary>
internal sealed record UserOp(long Cause, int Pid, long Seq, Operation Op) : ITaskProtocol;
