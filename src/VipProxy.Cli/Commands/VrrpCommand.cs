using System.CommandLine;
using VipProxy.Host.Control;

namespace VipProxy.Cli.Commands;

/// <summary>
/// <c>vipproxy vrrp demote|resume INSTANCE</c>: move the VIP away from this node without stopping it. Demote makes a
/// master leave with a priority 0 advert (RFC 5798 §6.4.3), so the peer takes over within Skew_Time, and keeps the
/// instance BACKUP until resume. Kept in the state file across reload and restart.
/// </summary>
internal static class VrrpCommand
{
    public static Command Create()
    {
        var vrrp = new Command("vrrp", "Operate the running vipproxy's VRRP instances.");
        vrrp.Add(Make("demote", "Leave MASTER now (priority 0 advert, the peer takes the VIP) and stay BACKUP until 'vrrp resume'.", "vrrp-demote"));
        vrrp.Add(Make("resume", "End a demotion: the instance takes part in the election again (and preempts if configured to).", "vrrp-resume"));
        return vrrp;
    }

    private static Command Make(string name, string description, string request)
    {
        var instance = new Argument<string>("INSTANCE") { Description = "The vrrp_instance name." };
        Option<string> socket = CommonOptions.Socket();
        Option<bool> json = CommonOptions.Json();
        var command = new Command(name, description) { instance, socket, json };
        command.SetAction((result, _) => ControlCall.RunAsync(
            result.GetValue(socket)!,
            new ControlRequest(request) { Instance = result.GetValue(instance) },
            result.GetValue(json), $"vrrp {name}", Console.Out, Console.Error));
        return command;
    }
}
