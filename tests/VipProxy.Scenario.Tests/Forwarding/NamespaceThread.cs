using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Tmds.Linux;
using VipProxy.Lab;

namespace VipProxy.Scenario.Tests.Forwarding;

/// <summary>
/// A dedicated thread that joined a host's network namespace (setns, CLONE_NEWNET), so that this test process can
/// act as a client or server on that host. A socket belongs to the namespace it was created in, whatever thread
/// uses it later: sockets made here are then driven with ordinary async code. Synchronous work that creates its
/// own sockets (MySqlConnector's Open) runs on the thread itself.
/// </summary>
internal sealed class NamespaceThread : IDisposable
{
    private const int CloneNewNet = 0x40000000;

    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;

    public NamespaceThread(LanHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        Host = host;
        var joined = new TaskCompletionSource();
        _thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle("/run/netns/" + host.NamespaceName);
                if (LibC.setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new SocketException(LibC.errno);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
            {
                joined.SetException(e);
                return;
            }

            joined.SetResult();
            foreach (Action work in _work.GetConsumingEnumerable())
            {
                work();
            }
        })
        {
            IsBackground = true,
            Name = "netns " + host.Name,
        };
        _thread.Start();
        joined.Task.GetAwaiter().GetResult();
    }

    public LanHost Host { get; }

    /// <summary>Runs <paramref name="work"/> on the namespace thread (one item at a time, in order).</summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                result.SetResult(work());
            }
#pragma warning disable CA1031 // Handed to the awaiting test, which sees it as the task's exception.
            catch (Exception e)
#pragma warning restore CA1031
            {
                result.SetException(e);
            }
        });
        return result.Task;
    }

    /// <summary>A TCP socket in this host, bound to <paramref name="source"/> (port 0) when given.</summary>
    public Task<Socket> CreateTcpSocketAsync(IPAddress? source = null) => RunAsync(() =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (source is not null)
            {
                socket.Bind(new IPEndPoint(source, 0));
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return socket;
    });

    /// <summary>A listening TCP socket in this host.</summary>
    public Task<Socket> ListenAsync(IPEndPoint endpoint, int backlog = 512) => RunAsync(() =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint);
            socket.Listen(backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return socket;
    });

    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(30));
        _work.Dispose();
    }
}
