using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using VipProxy.Vrrp.Linux;
using VipProxy.Vrrp.Protocol;

namespace VipProxy.Vrrp.Runtime;

/// <summary>
/// The per-interface plumbing shared by the instances on one interface: the VRRP socket with its reader, and the
/// gratuitous ARP sender. Each datagram is decoded once (<see cref="VrrpCodec.Decode"/>) and handed to the instances
/// with its VRID; undecodable datagrams and unknown VRIDs are counted here, per socket.
/// </summary>
internal sealed partial class InterfaceHub : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, long> _counters = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private VrrpInstanceDriver[] _drivers = [];
    private Task? _reader;

    public InterfaceHub(string name, int index, ReadOnlyMemory<byte> hardwareAddress, IVrrpSocket socket, IGratuitousArpSender arp, ILogger logger)
    {
        Name = name;
        Index = index;
        HardwareAddress = hardwareAddress;
        Socket = socket;
        Arp = arp;
        _logger = logger;
    }

    public string Name { get; }

    public int Index { get; }

    public ReadOnlyMemory<byte> HardwareAddress { get; }

    public IVrrpSocket Socket { get; }

    public IGratuitousArpSender Arp { get; }

    public int DriverCount
    {
        get
        {
            lock (_gate)
            {
                return _drivers.Length;
            }
        }
    }

    public IReadOnlyDictionary<string, long> Counters => new Dictionary<string, long>(_counters, StringComparer.Ordinal);

    public void Add(VrrpInstanceDriver driver)
    {
        lock (_gate)
        {
            _drivers = [.. _drivers, driver];
        }

        _reader ??= Task.Run(ReadAsync);
    }

    public void Remove(VrrpInstanceDriver driver)
    {
        lock (_gate)
        {
            _drivers = [.. _drivers.Where(d => d != driver)];
        }
    }

    /// <summary>Routes one received datagram (the reader calls this; tests may too).</summary>
    public void Dispatch(ReadOnlySpan<byte> datagram)
    {
        var decoded = VrrpCodec.Decode(datagram);
        if (!decoded.IsAccepted)
        {
            _counters.AddOrUpdate(decoded.DropReason.ToString(), 1, (_, n) => n + 1);
            return;
        }

        var advertisement = decoded.Advertisement!;
        VrrpInstanceDriver[] drivers;
        lock (_gate)
        {
            drivers = _drivers;
        }

        bool routed = false;
        foreach (var driver in drivers)
        {
            if (driver.Options.VirtualRouterId == advertisement.Packet.VirtualRouterId)
            {
                routed = true;
                driver.OnAdvertisement(advertisement);
            }
        }

        if (!routed)
        {
            // Another virtual router on this link: not an error (RFC 5798 §7.1), but worth a counter.
            _counters.AddOrUpdate(nameof(DropReason.WrongVirtualRouterId), 1, (_, n) => n + 1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        Socket.Dispose(); // unblocks a receive that ignores cancellation
        if (_reader is not null)
        {
            try
            {
                await _reader.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }

        Arp.Dispose();
        _stop.Dispose();
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[65536];
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await Socket.ReceiveAsync(buffer, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
#pragma warning disable CA1031 // The reader must survive transient socket errors (ENETDOWN while the link is down).
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogReceiveFailed(_logger, Name, e.Message);
                await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            Dispatch(buffer.AsSpan(0, length));
        }
    }

    [LoggerMessage(EventId = 720, Level = LogLevel.Warning, Message = "VRRP receive on {Interface} failed: {Reason}")]
    private static partial void LogReceiveFailed(ILogger logger, string @interface, string reason);
}
