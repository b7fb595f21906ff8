using System.Net.Sockets;
using Tmds.Linux;

namespace VipProxy.Vrrp.Tests.Support;

/// <summary>
/// Opens sockets inside a test namespace from this process: setns(CLONE_NEWNET) on a short-lived dedicated thread
/// (network namespaces are per thread). A socket keeps the namespace it was created in, whatever thread uses it later.
/// </summary>
internal static class NetNs
{
    private const int CloneNewNet = 0x40000000;

    public static T Run<T>(string namespaceName, Func<T> create)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle("/run/netns/" + namespaceName);
                if (LibC.setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new SocketException(LibC.errno);
                }

                result = create();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.Start();
        thread.Join();
        if (error is not null)
        {
            throw new InvalidOperationException("in namespace " + namespaceName + ": " + error.Message, error);
        }

        return result;
    }
}
