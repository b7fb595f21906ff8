using System.CommandLine;
using VipProxy.Cli.Commands;

// vipproxy: one binary, one subcommand per job. The command names and options are what operators
// script against: extend them, never rename them.

// Run socket completions on the epoll thread rather than hopping to the thread pool: for a proxy, whose
// continuation is a short splice or send, this roughly halves the latency it adds (measured here). It is read
// once, when the first socket is created, so it must be set before anything touches System.Net.Sockets; an
// operator's explicit setting wins.
const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
{
    Environment.SetEnvironmentVariable(InlineCompletions, "1");
}

var root = new RootCommand("VipProxy: a Layer-4 TCP load balancer with VRRP virtual-IP failover, configured in keepalived.conf syntax.")
{
    CheckCommand.Create(),
    RunCommand.Create(),
    StatusCommand.Create(),
    DemoCommand.Create(),
    CompletionCommand.Create(),
    ImportCommand.Create(),
    DoctorCommand.Create(),
    ServerCommand.Create(),
    ConnectionsCommand.Create(),
    VrrpCommand.Create(),
};

// Hidden: writes the man pages from this command tree and the config binder's keyword tables (the package build
// calls it), so the pages cannot drift from what the binary accepts.
root.Add(ManualCommand.Create(root));

// No process-termination handling from the command line library: on SIGINT/SIGTERM it would end the process two
// seconds later whatever the command is doing. `run` drains connections for longer under the generic host's own
// signal handling, and `demo` must finish tearing down its namespaces; each handles the signals itself.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
return await root.Parse(args).InvokeAsync(invocation).ConfigureAwait(false);
