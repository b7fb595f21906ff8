namespace VipProxy.Lab;

/// <summary>Linux signal numbers (x86-64 and arm64 agree) a scenario sends to a daemon.</summary>
public enum UnixSignal
{
    Hup = 1,
    Int = 2,
    Kill = 9,
    Usr1 = 10,
    Usr2 = 12,
    Term = 15,

    /// <summary>Resumes a process frozen by <see cref="Stop"/>.</summary>
    Cont = 18,

    /// <summary>Freezes a process without killing it: models a hung master that holds its sockets.</summary>
    Stop = 19,
}
