namespace VipProxy.Lab;

/// <summary>The outcome of a command run to completion.</summary>
public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Throws with the command's output when it failed, so the test log says why.</summary>
    public CommandResult EnsureSuccess(string what)
    {
        if (!Succeeded)
        {
            throw new InvalidOperationException($"{what} failed with exit code {ExitCode}: {this}");
        }

        return this;
    }

    public override string ToString() => (StandardOutput + StandardError).Trim();
}
