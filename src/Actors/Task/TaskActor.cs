using System.Collections.Immutable;
using Akka.Actor;
using TaskIsolation.Actors.Simulation;

namespace TaskIsolation.Actors.Task;

/// <summary>
/// A task's user space: it walks its program and answers each <see cref="ResumeUser"/> from the CPU running it with
/// the next step. It holds nothing the kernel needs (that is the CPU's <see cref="Kernel.TaskStruct"/>), so a task can
/// migrate without this actor knowing.
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
        Akka.Actor.Props.Create(() => new TaskActor(sim, pid, program)).WithDispatcher(sim.Dispatcher);

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

    /// <summary>The next step of the program, unrolling loops; <see cref="Exit"/>(0) once it has ended.</summary>
    private Operation Next()
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
