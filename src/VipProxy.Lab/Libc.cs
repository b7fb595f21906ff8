using System.Runtime.InteropServices;

namespace VipProxy.Lab;

/// <summary>The one libc call needed: .NET can send SIGKILL (Process.Kill) but no other signal.</summary>
internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Sends a signal; false when the process no longer exists.</summary>
    public static bool SendSignal(int pid, UnixSignal signal) => Kill(pid, (int)signal) == 0;
}
