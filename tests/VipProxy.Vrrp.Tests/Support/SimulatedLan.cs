using Microsoft.Extensions.Time.Testing;
using VipProxy.Vrrp.Protocol;

namespace VipProxy.Vrrp.Tests.Support;

/// <summary>
/// A discrete-event stand-in for the future driver and a shared link: executes the machines' actions, keeps their
/// timers, carries adverts between nodes through the real codec (encode, then parse with the receiver's options),
/// and moves a <see cref="FakeTimeProvider"/> from event to event.
/// </summary>
internal sealed class SimulatedLan
{
    private readonly PriorityQueue<Action, (TimeSpan At, long Seq)> _queue = new();
    private readonly List<SimulatedNode> _nodes = [];
    private long _sequence;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>Monotonic time at construction; tests speak in offsets from here.</summary>
    public TimeSpan Origin { get; }

    public SimulatedLan() => Origin = VrrpTiming.Now(Time);

    public TimeSpan Now => VrrpTiming.Now(Time);

    /// <summary>Time since <see cref="Origin"/>.</summary>
    public TimeSpan Elapsed => Now - Origin;

    public SimulatedNode AddNode(VrrpInstanceOptions options)
    {
        var node = new SimulatedNode(this, options);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Runs <paramref name="action"/> at <see cref="Origin"/> + <paramref name="offset"/>.</summary>
    public void At(TimeSpan offset, Action action) => Schedule(Origin + offset, action);

    /// <summary>Runs <paramref name="action"/> every <paramref name="period"/> from <paramref name="start"/> while before <paramref name="stop"/>.</summary>
    public void Every(TimeSpan period, TimeSpan start, TimeSpan stop, Action action)
    {
        for (var t = start; t < stop; t += period)
        {
            At(t, action);
        }
    }

    public void Schedule(TimeSpan absolute, Action action) => _queue.Enqueue(action, (absolute, _sequence++));

    /// <summary>Processes everything due up to <see cref="Origin"/> + <paramref name="offset"/>, then sets the clock there.</summary>
    public void RunUntil(TimeSpan offset)
    {
        var target = Origin + offset;
        while (_queue.TryPeek(out var action, out var key) && key.At <= target)
        {
            _queue.Dequeue();
            AdvanceTo(key.At);
            action();
        }

        AdvanceTo(target);
    }

    /// <summary>Runs for <paramref name="duration"/> from the current time.</summary>
    public void RunFor(TimeSpan duration) => RunUntil(Elapsed + duration);

    internal void Transmit(SimulatedNode sender, byte priority)
    {
        if (!sender.LinkUp)
        {
            return;
        }

        var options = sender.Options;
        var packet = VrrpPacket.ForInstance(options, priority);
        if (options.UnicastPeers.Count == 0)
        {
            var datagram = VrrpCodec.EncodeIPv4DatagramToArray(packet, options.PrimaryAddress, VrrpCodec.MulticastGroup);
            foreach (var receiver in _nodes.Where(n => n != sender))
            {
                Schedule(Now, () => receiver.Receive(datagram));
            }
        }
        else
        {
            // keepalived unicast_peer: one copy per peer, destination = the peer.
            foreach (var peer in options.UnicastPeers)
            {
                var datagram = VrrpCodec.EncodeIPv4DatagramToArray(packet, options.PrimaryAddress, peer);
                foreach (var receiver in _nodes.Where(n => n != sender && n.Options.PrimaryAddress.Equals(peer)))
                {
                    Schedule(Now, () => receiver.Receive(datagram));
                }
            }
        }
    }

    private void AdvanceTo(TimeSpan absolute)
    {
        var delta = absolute - Now;
        if (delta > TimeSpan.Zero)
        {
            Time.Advance(delta);
        }
    }
}
