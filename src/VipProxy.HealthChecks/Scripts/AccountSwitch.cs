using System.Diagnostics;
using System.Globalization;

namespace VipProxy.HealthChecks.Scripts;

/// <summary>
/// Starts a program as another account, through a small setuid-free helper run by root.
/// </summary>
/// <remarks>
/// <c>setpriv --reuid --regid --init-groups</c> (util-linux) is preferred: it only changes the ids and execs the
/// program, so the script keeps its pid (a timeout kill reaches it) and no PAM session is opened or logged per
/// probe. <c>runuser -u USER [-g GROUP] --</c> is the fallback: it opens a PAM session and forks.
/// </remarks>
internal sealed class AccountSwitch
{
    private static readonly string[] SearchDirectories = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"];

    private AccountSwitch(string? setPriv, string? runUser)
    {
        SetPrivPath = setPriv;
        RunUserPath = runUser;
    }

    public static AccountSwitch Detected { get; } = Detect();

    public string? SetPrivPath { get; }

    public string? RunUserPath { get; }

    public bool IsAvailable => SetPrivPath is not null || RunUserPath is not null;

    /// <summary>Fills in a start info that runs <paramref name="program"/> with <paramref name="arguments"/> as
    /// <paramref name="account"/>; the program and arguments are passed as separate arguments, never re-parsed.</summary>
    public void Apply(ProcessStartInfo startInfo, ResolvedAccount account, string program, IEnumerable<string> arguments)
    {
        if (SetPrivPath is not null)
        {
            startInfo.FileName = SetPrivPath;
            startInfo.ArgumentList.Add("--reuid=" + account.Uid.ToString(CultureInfo.InvariantCulture));
            startInfo.ArgumentList.Add("--regid=" + account.Gid.ToString(CultureInfo.InvariantCulture));
            startInfo.ArgumentList.Add("--init-groups");
        }
        else if (RunUserPath is not null)
        {
            startInfo.FileName = RunUserPath;
            startInfo.ArgumentList.Add("-u");
            startInfo.ArgumentList.Add(account.Name);
            if (account.GroupName is not null)
            {
                // Without -g runuser uses the user's primary group, which is what Gid holds then.
                startInfo.ArgumentList.Add("-g");
                startInfo.ArgumentList.Add(account.GroupName);
            }
        }
        else
        {
            throw new InvalidOperationException("neither setpriv nor runuser is installed");
        }

        startInfo.ArgumentList.Add("--");
        startInfo.ArgumentList.Add(program);
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
    }

    private static AccountSwitch Detect() => new(Find("setpriv"), Find("runuser"));

    private static string? Find(string name) =>
        SearchDirectories.Select(directory => Path.Combine(directory, name)).FirstOrDefault(File.Exists);
}
