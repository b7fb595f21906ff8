using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using VipProxy.Vrrp.Linux;
using VipProxy.Vrrp.Runtime;

namespace VipProxy.Vrrp.Tests.Support;

/// <summary>In-memory kernel: links, addresses, a VRRP socket per interface, ARP and script runs, all recorded.</summary>
internal sealed class FakeAdapters : IVrrpAdapterFactory
{
    public FakeNetlink Netlink { get; } = new();

    public ConcurrentDictionary<string, FakeVrrpSocket> Sockets { get; } = new();

    public FakeArp Arp { get; } = new();

    public FakeScriptRunner Scripts { get; } = new();

    public IScriptRunner ScriptRunner => Scripts;

    public INetlinkRoute OpenNetlink() => Netlink;

    public IVrrpSocket OpenSocket(VrrpSocketOptions options) => Sockets.GetOrAdd(options.InterfaceName, _ => new FakeVrrpSocket(options));

    /// <summary>eth0 (ifindex 2) sends through <see cref="Arp"/>; every other interface through its own.</summary>
    public IGratuitousArpSender OpenArpSender(int interfaceIndex) =>
        interfaceIndex == 2 ? Arp : OtherArp.GetOrAdd(interfaceIndex, _ => new FakeArp());

    public ConcurrentDictionary<int, FakeArp> OtherArp { get; } = new();

    public FakeTimeWaitReaper TimeWait { get; } = new();

    public ITimeWaitReaper OpenTimeWaitReaper() => TimeWait;

    /// <summary>The common host: eth0 (ifindex 2) with 198.18.0.1/24 and a MAC.</summary>
    public static FakeAdapters WithEth0(string address = "198.18.0.1")
    {
        var adapters = new FakeAdapters();
        adapters.Netlink.AddLink(2, "eth0", up: true);
        adapters.Netlink.AddAddress(2, new AddressRequest(IPAddress.Parse(address), 24, null, 0, null));
        return adapters;
    }
}

internal sealed class FakeNetlink : INetlinkRoute
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkState> _links = [];
    private readonly List<(int Index, AddressRequest Request)> _addresses = [];
    private readonly FakeLinkWatcher _watcher = new();

    public List<string> Log { get; } = [];

    public void AddLink(int index, string name, bool up)
    {
        lock (_gate)
        {
            _links[name] = new LinkState(index, name, up, new byte[] { 2, 0, 0, 0, 0, (byte)index });
        }
    }

    /// <summary>Changes a link and notifies the watcher, as RTM_NEWLINK would.</summary>
    public void SetLink(string name, bool up)
    {
        LinkState link;
        lock (_gate)
        {
            link = _links[name] with { IsUp = up };
            _links[name] = link;
        }

        _watcher.Push([link]);
    }

    public IReadOnlyList<IPAddress> AddressesOf(int index)
    {
        lock (_gate)
        {
            return [.. _addresses.Where(a => a.Index == index).Select(a => a.Request.Address)];
        }
    }

    public AddressRequest? Find(IPAddress address)
    {
        lock (_gate)
        {
            return _addresses.Where(a => a.Request.Address.Equals(address)).Select(a => a.Request).FirstOrDefault();
        }
    }

    public IReadOnlyList<LinkState> GetLinks()
    {
        lock (_gate)
        {
            return [.. _links.Values];
        }
    }

    public IReadOnlyList<InterfaceAddressEntry> GetIPv4Addresses(int interfaceIndex)
    {
        lock (_gate)
        {
            return [.. _addresses.Where(a => a.Index == interfaceIndex)
                .Select(a => new InterfaceAddressEntry(a.Request.Address, a.Request.PrefixLength, a.Request.Label, false))];
        }
    }

    public bool AddAddress(int interfaceIndex, AddressRequest request)
    {
        lock (_gate)
        {
            Log.Add($"add {request.Address}/{request.PrefixLength} on {interfaceIndex}");
            if (_addresses.Any(a => a.Index == interfaceIndex && a.Request.Address.Equals(request.Address)))
            {
                return false;
            }

            _addresses.Add((interfaceIndex, request));
            return true;
        }
    }

    public bool RemoveAddress(int interfaceIndex, IPAddress address, int prefixLength)
    {
        lock (_gate)
        {
            Log.Add($"del {address}/{prefixLength} on {interfaceIndex}");
            return _addresses.RemoveAll(a => a.Index == interfaceIndex && a.Request.Address.Equals(address)) > 0;
        }
    }

    public ILinkWatcher WatchLinks() => _watcher;

    public void Dispose()
    {
    }

    private sealed class FakeLinkWatcher : ILinkWatcher
    {
        private readonly Channel<IReadOnlyList<LinkState>> _changes = Channel.CreateUnbounded<IReadOnlyList<LinkState>>();

        public void Push(IReadOnlyList<LinkState> links) => _changes.Writer.TryWrite(links);

        public ValueTask<IReadOnlyList<LinkState>> ReceiveAsync(CancellationToken cancellationToken) =>
            _changes.Reader.ReadAsync(cancellationToken);

        public void Dispose()
        {
        }
    }
}

internal sealed class FakeVrrpSocket(VrrpSocketOptions options) : IVrrpSocket
{
    private readonly Channel<byte[]> _incoming = Channel.CreateUnbounded<byte[]>();
    private readonly Lock _gate = new();
    private readonly List<(byte[] Datagram, IPAddress Destination)> _sent = [];

    public VrrpSocketOptions Options { get; } = options;

    public bool Disposed { get; private set; }

    public IReadOnlyList<(byte[] Datagram, IPAddress Destination)> Sent
    {
        get
        {
            lock (_gate)
            {
                return [.. _sent];
            }
        }
    }

    public void Deliver(byte[] datagram) => _incoming.Writer.TryWrite(datagram);

    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var datagram = await _incoming.Reader.ReadAsync(cancellationToken);
        datagram.CopyTo(buffer);
        return datagram.Length;
    }

    public void Send(ReadOnlySpan<byte> ipDatagram, IPAddress destination)
    {
        lock (_gate)
        {
            _sent.Add((ipDatagram.ToArray(), destination));
        }
    }

    public void Dispose()
    {
        Disposed = true;
        _incoming.Writer.TryComplete();
    }
}

internal sealed class FakeArp : IGratuitousArpSender
{
    private readonly ConcurrentQueue<IPAddress> _sent = new();

    public IReadOnlyList<IPAddress> Sent => [.. _sent];

    /// <summary>How often it was closed: once is right, more is a double close.</summary>
    public int DisposeCount => _disposeCount;

    private int _disposeCount;

    public void Send(IPAddress address, ReadOnlySpan<byte> senderMac) => _sent.Enqueue(address);

    public void Dispose() => Interlocked.Increment(ref _disposeCount);
}

internal sealed class FakeScriptRunner : IScriptRunner
{
    private readonly ConcurrentQueue<ScriptInvocation> _runs = new();

    /// <summary>Decides each run's outcome; succeeds by default.</summary>
    public Func<ScriptInvocation, VrrpScriptResult> Outcome { get; set; } = _ => VrrpScriptResult.Succeeded;

    public IReadOnlyList<ScriptInvocation> Runs => [.. _runs];

    public Task<VrrpScriptResult> RunAsync(ScriptInvocation invocation, CancellationToken cancellationToken)
    {
        _runs.Enqueue(invocation);
        return Task.FromResult(Outcome(invocation));
    }
}

/// <summary>Records the addresses it was asked to clear of TIME_WAIT sockets.</summary>
internal sealed class FakeTimeWaitReaper : ITimeWaitReaper
{
    private readonly ConcurrentQueue<IPAddress[]> _calls = new();

    public IReadOnlyList<IPAddress[]> Calls => [.. _calls];

    public int DestroyTimeWait(IReadOnlyCollection<IPAddress> localAddresses)
    {
        _calls.Enqueue([.. localAddresses]);
        return 0;
    }
}
