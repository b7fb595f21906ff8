namespace VipProxy.Config.Model;

/// <summary><c>vrrp_script NAME { … }</c>: a command run periodically whose exit status tracks an instance.</summary>
/// <param name="Script"><c>script "CMD ARGS"</c> (required).</param>
/// <param name="Interval"><c>interval SECS</c>: how often it runs. Default 1 s.</param>
/// <param name="Timeout"><c>timeout SECS</c>: a run that takes longer counts as failed. Default: the interval.</param>
/// <param name="Weight"><c>weight N [reverse]</c>, -253..253: added to the priority while the script succeeds (N &gt; 0) or fails (N &lt; 0). 0 (default): failure puts the instance in Fault.</param>
/// <param name="WeightReverse"><c>reverse</c> after the weight: apply it on the opposite result.</param>
/// <param name="Rise"><c>rise N</c>: successes needed to count as up. Default 1.</param>
/// <param name="Fall"><c>fall N</c>: failures needed to count as down. Default 1.</param>
/// <param name="User"><c>user USER [GROUP]</c>: run as. Default: global <c>script_user</c>.</param>
/// <param name="InitFail"><c>init_fail</c>: start in the failed state. Default: start up.</param>
public sealed record VrrpScript(
    string Name,
    ScriptCommand Script,
    TimeSpan Interval,
    TimeSpan Timeout,
    int Weight,
    bool WeightReverse,
    int Rise,
    int Fall,
    ScriptAccount? User,
    bool InitFail);
