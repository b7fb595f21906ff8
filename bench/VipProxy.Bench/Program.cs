using System.Runtime.InteropServices;
using VipProxy.Bench;
using VipProxy.Bench.Helpers;

// VipProxy.Bench: the benchmark harness (run it through bench/run.sh), plus two helper subcommands it starts
// inside the client's network namespace.
switch (args.FirstOrDefault())
{
    case "hold-connections":
        return await HoldConnections.RunAsync(args[1..]);
    case "probe":
        return await FailoverProbe.RunAsync(args[1..]);
    case "--help" or "-h":
        Console.WriteLine(BenchOptions.Usage);
        return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}\n\n{BenchOptions.Usage}");
    return 2;
}

if (Environment.UserName != "root")
{
    await Console.Error.WriteLineAsync("error: the benchmark builds network namespaces and needs root");
    return 2;
}

// Ctrl-C or SIGTERM cancels the run: the runner then tears the LAN down and writes what it measured so far. A
// second Ctrl-C is not intercepted, so an impatient user can still kill it (the next run sweeps the leftovers).
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !cancellation.IsCancellationRequested;
    cancellation.Cancel();
};
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancellation.Cancel();
});

try
{
    return await new BenchRunner(options).RunAsync(cancellation.Token);
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}");
    return 2;
}
