using System.CommandLine;
using VipProxy.Cli.Commands;

// vipproxy: one binary, one subcommand per job. The command names and options are what operators
// script against: extend them, never rename them.
var root = new RootCommand("VipProxy: a Layer-4 TCP load balancer with VRRP virtual-IP failover, configured in keepalived.conf syntax.")
{
    CheckCommand.Create(),
    RunCommand.Create(),
    StatusCommand.Create(),
};
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
