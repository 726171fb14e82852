/**
 * How calls reached their actors on one silo, for operators (`SiloInfo.routing`) and the
 * scale-out benchmark: the share of client calls this silo had to forward is
 * `clientCallsForwarded / clientCalls`. Owned by the silo, so the figures survive a rejoin.
 */
export class RoutingCounters {
  /** Calls clients sent to this silo (admitted at its door). */
  clientCalls = 0;
  /** Client calls this silo sent on to another silo: the client did not know the actor's owner. */
  clientCallsForwarded = 0;
  /** Calls other silos forwarded to this silo. */
  callsFromSilos = 0;
}
