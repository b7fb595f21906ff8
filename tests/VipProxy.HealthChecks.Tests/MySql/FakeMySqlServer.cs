using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VipProxy.HealthChecks.Tests.MySql;

/// <summary>
/// A scripted MySQL server for protocol-flow tests (MySQL 8 behaviour that the MariaDB on this machine cannot show):
/// accepts one connection and runs the given conversation, raw packet by raw packet.
/// </summary>
internal sealed class FakeMySqlServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _conversation;

    public FakeMySqlServer(Func<Connection, Task> conversation)
    {
        _listener.Start();
        _conversation = RunAsync(conversation);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>The conversation's task: awaiting it surfaces the server side's assertion failures.</summary>
    public Task Conversation => _conversation;

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _conversation.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // Reported through Conversation by the tests that care.
        }
    }

    /// <summary>A protocol 10 greeting as MySQL 8 sends it.</summary>
    public static byte[] Greeting(byte[] scramble, string plugin, string version = "8.0.36",
        uint capabilities = 0xDFFF_FFFF & ~0x800u)
    {
        var bytes = new List<byte> { 10 };
        bytes.AddRange(Encoding.ASCII.GetBytes(version));
        bytes.Add(0);
        bytes.AddRange(BitConverter.GetBytes(42u));
        bytes.AddRange(scramble[..8]);
        bytes.Add(0);
        bytes.AddRange(BitConverter.GetBytes((ushort)(capabilities & 0xFFFF)));
        bytes.Add(255);
        bytes.AddRange(BitConverter.GetBytes((ushort)2));
        bytes.AddRange(BitConverter.GetBytes((ushort)(capabilities >> 16)));
        bytes.Add(21);
        bytes.AddRange(new byte[10]);
        bytes.AddRange(scramble[8..]);
        bytes.Add(0);
        bytes.AddRange(Encoding.ASCII.GetBytes(plugin));
        bytes.Add(0);
        return [.. bytes];
    }

    public static byte[] Ok() => [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00];

    public static byte[] Error(int code, string state, string message) =>
        [0xFF, (byte)code, (byte)(code >> 8), (byte)'#', .. Encoding.ASCII.GetBytes(state), .. Encoding.UTF8.GetBytes(message)];

    private async Task RunAsync(Func<Connection, Task> conversation)
    {
        using Socket socket = await _listener.AcceptSocketAsync();
        await conversation(new Connection(socket));
    }

    internal sealed class Connection(Socket socket)
    {
        public async Task SendAsync(byte sequence, byte[] payload)
        {
            var packet = new byte[4 + payload.Length];
            BinaryPrimitives.WriteInt32LittleEndian(packet, payload.Length);
            packet[3] = sequence;
            payload.CopyTo(packet, 4);
            await socket.SendAsync(packet, SocketFlags.None);
        }

        public async Task<(byte Sequence, byte[] Payload)> ReadAsync()
        {
            byte[] header = await ReadExactlyAsync(4);
            int length = header[0] | (header[1] << 8) | (header[2] << 16);
            return (header[3], await ReadExactlyAsync(length));
        }

        /// <summary>True when the client closed the connection (after COM_QUIT, as a clean session does).</summary>
        public async Task<bool> ClosedByClientAsync()
        {
            var buffer = new byte[1];
            return await socket.ReceiveAsync(buffer, SocketFlags.None) == 0;
        }

        public void Close() => socket.Shutdown(SocketShutdown.Both);

        private async Task<byte[]> ReadExactlyAsync(int count)
        {
            var buffer = new byte[count];
            int filled = 0;
            while (filled < count)
            {
                int read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
                if (read == 0)
                {
                    throw new EndOfStreamException("client closed");
                }

                filled += read;
            }

            return buffer;
        }
    }
}
