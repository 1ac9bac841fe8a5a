using System.Collections.Immutable;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Task;

/// <summary>
/// A task's user space: it walks its program and answers each <see cref="ResumeUser"/> from the CPU running it with
/// the next step. It holds nothing the kernel needs (that is the CPU's <see cref="TaskIsolation.Machine.Kernel.TaskStruct"/>), so a task can
/// migrate without this actor knowing.
/// <para>
/// Consecutive <see cref="Compute"/> steps, loops of them included, are handed to the CPU as one stretch of user-mode
/// work (one <see cref="Compute"/> of their summed length, <see cref="Compute.Forever"/> for a pure-compute loop that
/// never ends): nothing between two of them enters the kernel, so the CPU has nothing to do at their boundaries, and
/// interrupts stretch the stretch exactly as they stretch each step. The task is asked again only for a step that
/// enters the kernel, or when its program ends. A polling loop then costs no message per iteration.
/// </para>
/// </summary>
internal sealed class TaskActor : SimActor
{
    private readonly int _pid;
    private readonly Stack<Frame> _frames = new();
    private readonly Dictionary<int, ImmutableArray<Operation>> _handlers = [];

    public TaskActor(Simulation.Simulation sim, int pid, ImmutableArray<Operation> program)
        : base(sim)
    {
        _pid = pid;
        _frames.Push(new Frame(program, 0, 1));
    }

    public static Props Props(Simulation.Simulation sim, int pid, ImmutableArray<Operation> program) =>
        ModelProps.Of(() => new TaskActor(sim, pid, program), sim.Dispatcher);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case ResumeUser r:
                Send(Sender, new UserOp(r.Cause, _pid, r.Seq, Next()));
                break;
            case EnterHandler h:
                var body = _handlers.TryGetValue(h.Signal, out var ops) ? ops : [];
                _frames.Push(new Frame(body.Add(new Sigreturn()), 0, 1));
                Send(Sender, new UserOp(h.Cause, _pid, h.Seq, Next()));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>The next step of the program, consecutive computes as one; <see cref="Exit"/>(0) once it has ended.</summary>
    private Operation Next()
    {
        var op = NextStep();
        if (op is not Compute first)
        {
            return op;
        }

        var total = ComputeAhead(first.Ns);
        return total == first.Ns ? first : new Compute(total);
    }

    /// <summary>
    /// Consumes the pure user compute that follows (loops of it included) and returns <paramref name="total"/> plus
    /// its length; stops before the first step that enters the kernel, leaving it to be asked for next.
    /// </summary>
    private long ComputeAhead(long total)
    {
        while (_frames.Count > 0 && total != Compute.Forever)
        {
            var f = _frames.Pop();
            if (f.Index >= f.Ops.Length)
            {
                if (f.Remaining is > 1 or < 0)
                {
                    var again = f with { Index = 0, Remaining = f.Remaining < 0 ? -1 : f.Remaining - 1 };
                    if (PureComputeNs(f.Ops) is { } pass)
                    {
                        // Every pass left is user compute: take them all at once (a loop that never ends never ends).
                        if (f.Remaining < 0)
                        {
                            _frames.Push(again);
                            return Compute.Forever;
                        }

                        total = Add(total, Multiply(pass, again.Remaining));
                        continue;
                    }

                    _frames.Push(again);
                }

                continue;
            }

            switch (f.Ops[f.Index])
            {
                case Compute c:
                    _frames.Push(f with { Index = f.Index + 1 });
                    total = Add(total, c.Ns);
                    continue;
                case Loop loop:
                    _frames.Push(f with { Index = f.Index + 1 });
                    if (loop.Count != 0 && loop.Body.Length > 0)
                    {
                        _frames.Push(new Frame(loop.Body, 0, loop.Count));
                    }

                    continue;
                default:
                    _frames.Push(f); // enters the kernel: the CPU asks for it when the compute is done
                    return total;
            }
        }

        return total;
    }

    /// <summary>The length of one pass over <paramref name="ops"/> if it is all user compute, else null.</summary>
    private static long? PureComputeNs(ImmutableArray<Operation> ops)
    {
        long total = 0;
        foreach (var op in ops)
        {
            switch (op)
            {
                case Compute c:
                    total = Add(total, c.Ns);
                    break;
                case Loop loop when loop.Count == 0 || loop.Body.Length == 0:
                    break;
                case Loop loop:
                    if (PureComputeNs(loop.Body) is not { } body)
                    {
                        return null;
                    }

                    total = loop.Count < 0 ? Compute.Forever : Add(total, Multiply(body, loop.Count));
                    break;
                default:
                    return null;
            }
        }

        return total;
    }

    /// <summary>Sum of lengths, saturating at <see cref="Compute.Forever"/>.</summary>
    private static long Add(long a, long b) => a >= Compute.Forever - b ? Compute.Forever : a + b;

    /// <summary><paramref name="ns"/> repeated <paramref name="times"/>, saturating at <see cref="Compute.Forever"/>.</summary>
    private static long Multiply(long ns, long times) => ns == 0 ? 0 : times >= Compute.Forever / ns ? Compute.Forever : ns * times;

    /// <summary>The next step of the program, unrolling loops; <see cref="Exit"/>(0) once it has ended.</summary>
    private Operation NextStep()
    {
        while (_frames.Count > 0)
        {
            var f = _frames.Pop();
            if (f.Index >= f.Ops.Length)
            {
                // End of one pass: go round again while repetitions remain (-1 repeats forever).
                if (f.Remaining is > 1 or < 0)
                {
                    _frames.Push(f with { Index = 0, Remaining = f.Remaining < 0 ? -1 : f.Remaining - 1 });
                }

                continue;
            }

            var op = f.Ops[f.Index];
            _frames.Push(f with { Index = f.Index + 1 });
            switch (op)
            {
                case Loop loop when loop.Count != 0 && loop.Body.Length > 0:
                    _frames.Push(new Frame(loop.Body, 0, loop.Count));
                    continue;
                case Loop:
                    continue;
                case Sigaction sa:
                    _handlers[sa.Signal] = sa.Handler;
                    return op;
                default:
                    return op;
            }
        }

        return new Exit(0);
    }

    private readonly record struct Frame(ImmutableArray<Operation> Ops, int Index, int Remaining);
}
