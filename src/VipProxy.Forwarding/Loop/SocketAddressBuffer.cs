using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VipProxy.Forwarding.Loop;

/// <summary>
/// A <c>sockaddr_in</c> or <c>sockaddr_in6</c> in place (28 bytes, no allocation), as the loop passes it to bind,
/// connect and accept4; converted to and from <see cref="IPEndPoint"/> at the edges.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SocketAddressBuffer
{
    /// <summary>sizeof(struct sockaddr_in6), the largest address the loops handle.</summary>
    public const int Capacity = 28;

    private fixed byte _bytes[Capacity];

    /// <summary>The address length passed to or returned by the kernel.</summary>
    public int Length;

    /// <summary>AF_INET or AF_INET6 (0 when empty).</summary>
    public readonly int Family
    {
        get
        {
            fixed (byte* bytes = _bytes)
            {
                return Length >= 2 ? *(ushort*)bytes : 0;
            }
        }
    }

    /// <summary>The raw bytes.</summary>
    [UnscopedRef]
    public Span<byte> Bytes => MemoryMarshal.CreateSpan(ref _bytes[0], Capacity);

    /// <summary>The address of <paramref name="endpoint"/> (an IPv4-mapped IPv6 address stays IPv6).</summary>
    public static SocketAddressBuffer From(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var buffer = default(SocketAddressBuffer);
        Span<byte> bytes = buffer.Bytes;
        if (endpoint.AddressFamily == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes, LinuxConstants.AfInet);
            BinaryPrimitives.WriteUInt16BigEndian(bytes[2..], (ushort)endpoint.Port);
            endpoint.Address.TryWriteBytes(bytes.Slice(4, 4), out _);
            buffer.Length = 16;
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes, LinuxConstants.AfInet6);
            BinaryPrimitives.WriteUInt16BigEndian(bytes[2..], (ushort)endpoint.Port);
            endpoint.Address.TryWriteBytes(bytes.Slice(8, 16), out _);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[24..], (uint)endpoint.Address.ScopeId);
            buffer.Length = 28;
        }

        return buffer;
    }

    /// <summary>The port (host order).</summary>
    public readonly int Port
    {
        get
        {
            fixed (byte* bytes = _bytes)
            {
                return BinaryPrimitives.ReverseEndianness(*(ushort*)(bytes + 2));
            }
        }
    }

    /// <summary>The endpoint, or null when the buffer holds no IPv4/IPv6 address.</summary>
    public readonly IPEndPoint? ToEndPoint()
    {
        fixed (byte* bytes = _bytes)
        {
            var span = new ReadOnlySpan<byte>(bytes, Capacity);
            return Family switch
            {
                LinuxConstants.AfInet => new IPEndPoint(new IPAddress(span.Slice(4, 4)), Port),
                LinuxConstants.AfInet6 => new IPEndPoint(
                    new IPAddress(span.Slice(8, 16), BinaryPrimitives.ReadUInt32LittleEndian(span[24..])), Port),
                _ => null,
            };
        }
    }

    /// <summary>The same address with port 0 (for a transparent bind that lets connect pick the port).</summary>
    public readonly SocketAddressBuffer WithPortZero()
    {
        SocketAddressBuffer copy = this;
        copy.Bytes[2] = 0;
        copy.Bytes[3] = 0;
        return copy;
    }
}

/// <summary>
/// A native array of <c>struct epoll_event</c> for epoll_wait. The struct is packed on x86-64 (12 bytes: events,
/// then the 64-bit data at offset 4) and naturally aligned elsewhere (16 bytes, data at 8).
/// </summary>
internal sealed unsafe class EpollEvents : IDisposable
{
    private static readonly int Stride = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private byte* _events;

    public EpollEvents(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _events = (byte*)NativeMemory.AllocZeroed((nuint)(capacity * Stride));
    }

    public int Capacity { get; }

    public byte* Pointer => _events;

    public uint EventsAt(int index) => *(uint*)(_events + (index * Stride));

    public ulong TokenAt(int index) => Unsafe.ReadUnaligned<ulong>(_events + (index * Stride) + DataOffset);

    /// <summary>Writes one event (used by kernels that are not epoll, and by tests).</summary>
    public void Set(int index, uint events, ulong token)
    {
        *(uint*)(_events + (index * Stride)) = events;
        Unsafe.WriteUnaligned(_events + (index * Stride) + DataOffset, token);
    }

    public static void WriteEvent(byte* target, uint events, ulong token)
    {
        *(uint*)target = events;
        Unsafe.WriteUnaligned(target + DataOffset, token);
    }

    public static int EventSize => Stride;

    public void Dispose()
    {
        if (_events != null)
        {
            NativeMemory.Free(_events);
            _events = null;
        }
    }
}
