using System.Net;
using System.Net.Sockets;
using VipProxy.Core.ProxyProtocol;

namespace VipProxy.HealthChecks.Probes;

/// <summary>
/// The common frame of every network probe: connect (from <c>bindto</c> if set), run an exchange, close, all within
/// one deadline; and turn timeouts, refusals, resets and protocol errors into a down result with a reason.
/// </summary>
internal static class SocketProbeRunner
{
    /// <summary>The exchange after the connect; it may set <see cref="ProbeStep.Current"/> as it progresses and
    /// must honour the token (the probe's deadline).</summary>
    public delegate Task<ProbeResult> Exchange(Socket socket, ProbeStep step, CancellationToken deadline);

    public static async Task<ProbeResult> RunAsync(
        ProbeTarget target, TimeProvider timeProvider, Exchange exchange, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(target.Timeout, timeProvider);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        var step = new ProbeStep();
        using var socket = new Socket(target.Endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.NoDelay = true;
            if (target.BindTo is not null)
            {
                socket.Bind(new IPEndPoint(target.BindTo, 0));
            }

            await socket.ConnectAsync(target.Endpoint, deadline.Token).ConfigureAwait(false);
            step.Current = "connected";
            if (target.SendProxy != ProxyProtocolVersion.None)
            {
                step.Current = "sending the PROXY header";
                await SendProxyHeaderAsync(socket, target.SendProxy, deadline.Token).ConfigureAwait(false);
                step.Current = "connected";
            }

            return await exchange(socket, step, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ProbeResult.Down($"timed out after {target.TimeoutText} while {step.Current}");
        }
        catch (SocketException e)
        {
            return ProbeResult.Down($"{Describe(e.SocketErrorCode)} while {step.Current}", e.ErrorCode);
        }
        catch (IOException e) when (e.InnerException is SocketException inner)
        {
            return ProbeResult.Down($"{Describe(inner.SocketErrorCode)} while {step.Current}", inner.ErrorCode);
        }
        catch (EndOfStreamException)
        {
            return ProbeResult.Down($"the server closed the connection while {step.Current}");
        }
        catch (IOException e)
        {
            return ProbeResult.Down($"I/O error while {step.Current}: {e.Message}");
        }
        catch (InvalidDataException e)
        {
            // Raised by the protocol readers for malformed or unexpected replies.
            return ProbeResult.Down($"protocol error while {step.Current}: {e.Message}");
        }
    }

    /// <summary>The header for the check's own connection (its local address as the source, the real server as
    /// the destination), as HAProxy's check-send-proxy sends it.</summary>
    private static async Task SendProxyHeaderAsync(Socket socket, ProxyProtocolVersion version, CancellationToken deadline)
    {
        var header = new byte[ProxyProtocolHeader.MaxLength];
        int length = ProxyProtocolHeader.Write(header, version, (IPEndPoint)socket.LocalEndPoint!, (IPEndPoint)socket.RemoteEndPoint!);
        int sent = 0;
        while (sent < length)
        {
            sent += await socket.SendAsync(header.AsMemory(sent, length - sent), SocketFlags.None, deadline).ConfigureAwait(false);
        }
    }

    private static string Describe(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.ConnectionReset => "connection reset",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.TimedOut => "timed out",
        SocketError.AddressNotAvailable => "bindto address not available",
        _ => $"socket error {error}",
    };
}
