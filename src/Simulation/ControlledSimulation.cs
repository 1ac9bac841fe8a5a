using Akka.Actor;

namespace TaskIsolation.Simulation;

/// <summary>
/// Controlled mode: one thread, every choice the strategy's. A send is queued per receiver; the driver asks the
/// strategy which runnable receiver goes next and tells it the head of its queue, which the inline executor processes
/// on the driver's thread before the next choice. Same strategy seed, same run; the recorded decisions replay it.
/// </summary>
public sealed class ControlledSimulation : Simulation
{
    private readonly Dictionary<IActorRef, ReceiverQueue> _queues = new(ReferenceEqualityComparer.Instance);
    private readonly List<ReceiverQueue> _runnable = [];
    private readonly RunnableNames _runnableNames;
    private readonly RunnableIds _runnableIds;
    private readonly List<List<Timed>> _groups = [];
    private readonly Dictionary<IActorRef, List<Timed>> _groupOf = new(ReferenceEqualityComparer.Instance);
    private readonly Stack<List<Timed>> _spareGroups = new();
    private readonly List<int> _heads = [];
    private readonly IDeliveryObserver? _observer;
    private bool _inDelivery;

    /// <summary>A controlled simulation at time 0 whose every open point <paramref name="strategy"/> decides.</summary>
    public ControlledSimulation(ISchedulingStrategy strategy)
        : base(threadSafe: false)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        Strategy = strategy;
        _observer = strategy as IDeliveryObserver;
        _runnableNames = new RunnableNames(_runnable);
        _runnableIds = new RunnableIds(_runnable);
    }

    /// <inheritdoc />
    public override ExecutionMode Mode => ExecutionMode.Controlled;

    /// <summary>The strategy deciding the run.</summary>
    public ISchedulingStrategy Strategy { get; }

    /// <inheritdoc />
    public override string Dispatcher => SimulationConfig.ControlledDispatcher;

    /// <inheritdoc />
    public override void Send(IActorRef to, IMachineMessage message, IActorRef from) => Enqueue(to, message, from);

    /// <inheritdoc />
    private protected override int ChooseAmong(int options)
    {
        var chosen = Strategy.NextChoice(options);
        Log.Add(DecisionKind.Choice, chosen, options);
        return chosen;
    }

    /// <inheritdoc />
    private protected override RunOutcome Run(long untilNs, Func<bool>? stop)
    {
        while (true)
        {
            ThrowIfFaulted();
            if (Stall is not null)
            {
                return RunOutcome.NoProgress;
            }

            if (Interrupted || stop?.Invoke() == true)
            {
                return RunOutcome.Stopped;
            }

            if (_runnable.Count == 0)
            {
                var advanced = AdvanceTo(untilNs);
                if (advanced != RunOutcome.Continue)
                {
                    return advanced;
                }

                continue;
            }

            if (_deliveries >= MaxDeliveries)
            {
                return RunOutcome.StepLimit;
            }

            int index;
            if (_runnable.Count == 1)
            {
                index = 0;
            }
            else
            {
                // A view, not a copy: with a thousand runnable receivers, copying their names cost more than the delivery.
                _observer?.Offered(_runnableIds);
                index = Strategy.NextReceiver(_runnableNames);
                if ((uint)index >= (uint)_runnable.Count)
                {
                    throw new InvalidOperationException($"strategy {Strategy.Name} chose {index} of {_runnable.Count}");
                }

                Log.Add(DecisionKind.Schedule, index, _runnable.Count);
            }

            var queue = _runnable[index];
            if (_observer is not null && !_observer.Delivering(queue.Id))
            {
                return RunOutcome.Stopped;
            }

            var delivery = queue.Items.Dequeue();
            if (queue.Items.Count == 0)
            {
                _runnable.RemoveAt(index);
                queue.Runnable = false;
            }

            _deliveries++;
            CountType(delivery.Message);
            CountInstant(delivery.To, delivery.Message, _deliveries);
            if (_observer is null)
            {
                delivery.To.Tell(delivery.Message, delivery.From);
                continue;
            }

            var before = SharedAccesses;
            _inDelivery = true;
            try
            {
                delivery.To.Tell(delivery.Message, delivery.From);
            }
            finally
            {
                _inDelivery = false;
            }

            _observer.Delivered(SharedAccesses - before);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Same-time timers for one receiver from different senders may fire in any order: the strategy picks the order,
    /// keeping each sender's own messages in the order it sent them (Akka's per-pair ordering guarantee).
    /// </remarks>
    private protected override void Release(List<Timed> batch)
    {
        if (batch.Count == 1)
        {
            Enqueue(batch[0].To, batch[0].Message, batch[0].From);
            return;
        }

        // Group by receiver in order of first appearance, in one pass: a jiffy boundary on a 1,024-CPU machine
        // releases a thousand ticks at once, and a search per receiver would make that quadratic. The lists and the
        // index are the simulation's, reused from one release to the next: every jiffy boundary where two CPUs tick
        // comes here, and building them afresh allocated a dictionary, lists and delegates per release.
        var groups = _groups;
        var groupOf = _groupOf;
        try
        {
            foreach (var t in batch)
            {
                if (!groupOf.TryGetValue(t.To, out var g))
                {
                    g = _spareGroups.Count > 0 ? _spareGroups.Pop() : [];
                    groupOf.Add(t.To, g);
                    groups.Add(g);
                }

                g.Add(t);
            }

            foreach (var group in groups)
            {
                if (OneSender(group))
                {
                    // One sender: its order is fixed, there is nothing to choose.
                    foreach (var t in group)
                    {
                        Enqueue(t.To, t.Message, t.From);
                    }

                    continue;
                }

                var heads = _heads;
                while (group.Count > 0)
                {
                    // The heads: the first pending message of each distinct sender.
                    heads.Clear();
                    for (var i = 0; i < group.Count; i++)
                    {
                        if (FirstFrom(group, group[i].From) == i)
                        {
                            heads.Add(i);
                        }
                    }

                    var pick = heads[Choose(heads.Count)];
                    Enqueue(group[pick].To, group[pick].Message, group[pick].From);
                    group.RemoveAt(pick);
                }
            }
        }
        finally
        {
            foreach (var g in groups)
            {
                g.Clear();
                _spareGroups.Push(g);
            }

            groups.Clear();
            groupOf.Clear();
        }
    }

    private static bool OneSender(List<Timed> group)
    {
        for (var i = 1; i < group.Count; i++)
        {
            if (!ReferenceEquals(group[i].From, group[0].From))
            {
                return false;
            }
        }

        return true;
    }

    private static int FirstFrom(List<Timed> group, IActorRef from)
    {
        for (var i = 0; i < group.Count; i++)
        {
            if (ReferenceEquals(group[i].From, from))
            {
                return i;
            }
        }

        return -1;
    }

    private void Enqueue(IActorRef to, IMachineMessage message, IActorRef from)
    {
        if (!_queues.TryGetValue(to, out var queue))
        {
            queue = new ReceiverQueue(to.Path.Name, _queues.Count + 1);
            _queues.Add(to, queue);
        }

        queue.Items.Enqueue(new Timed(to, message, from));
        if (_inDelivery)
        {
            _observer!.Sent(queue.Id);
        }

        if (!queue.Runnable)
        {
            queue.Runnable = true;
            _runnable.Add(queue);
        }
    }

    /// <summary>The names of the runnable receivers, read through to the list (no copy per decision).</summary>
    private sealed class RunnableNames(List<ReceiverQueue> runnable) : IReadOnlyList<string>
    {
        public int Count => runnable.Count;

        public string this[int index] => runnable[index].Name;

        public IEnumerator<string> GetEnumerator() => runnable.Select(q => q.Name).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>The ids of the runnable receivers, read through to the list.</summary>
    private sealed class RunnableIds(List<ReceiverQueue> runnable) : IReadOnlyList<int>
    {
        public int Count => runnable.Count;

        public int this[int index] => runnable[index].Id;

        public IEnumerator<int> GetEnumerator() => runnable.Select(q => q.Id).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class ReceiverQueue(string name, int id)
    {
        public string Name { get; } = name;

        public int Id { get; } = id;

        public Queue<Timed> Items { get; } = new();

        public bool Runnable { get; set; }
    }
}
