using System.Net;

namespace VipProxy.Forwarding.Runtime;

/// <summary>Operator overrides (<c>vipproxy server drain|disable|enable|weight</c>): control operations like health
/// reports, on the control lock, published as a new <see cref="DispatchSnapshot"/>. The loops only see the next
/// snapshot; established connections are not touched here (closing them is <see cref="CloseConnectionsToAsync"/>).</summary>
public sealed partial class VirtualServerRuntime
{
    /// <summary>
    /// Sets the operator's override of a configured real server. A server that no longer takes new connections
    /// (drained, disabled, weight 0) has its persistence entries dropped at once, so persistent clients move now.
    /// </summary>
    /// <returns>False when no configured real server has that endpoint (nothing changed).</returns>
    public bool SetOperatorState(IPEndPoint endpoint, RealServerOperatorState state)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(state);
        if (state.Weight is < 0 or > RealServerOperatorState.MaxWeight)
        {
            throw new ArgumentOutOfRangeException(nameof(state), state.Weight, $"weight must be 0..{RealServerOperatorState.MaxWeight}");
        }

        lock (_control)
        {
            RealServerSlot? slot = _slots.Find(candidate => candidate.Config.Endpoint.Equals(endpoint));
            if (slot is null)
            {
                return false;
            }

            if (slot.Operator == state)
            {
                return true;
            }

            slot.Operator = state;
            if (slot.EffectiveWeight is null or 0)
            {
                _persistence?.DropServer(slot.Name);
            }

            Publish(Config);
            ForwardingLog.RealServerState(_logger, Endpoint, endpoint, state.IsNone
                ? "back to its health verdict and configured weight (operator override cleared)"
                : $"under operator override: {state.Mode.ToString().ToLowerInvariant()}, weight {(state.Weight is { } weight ? weight.ToString(System.Globalization.CultureInfo.InvariantCulture) : "as configured")}");
            return true;
        }
    }

    /// <summary>The configured real servers' addresses, in configuration order.</summary>
    public IReadOnlyList<IPEndPoint> RealServerEndpoints
    {
        get
        {
            lock (_control)
            {
                return [.. _slots.Select(slot => slot.Config.Endpoint)];
            }
        }
    }
}
