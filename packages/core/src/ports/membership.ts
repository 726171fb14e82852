/** Where a silo can be reached. */
export interface SiloAddress {
  readonly siloId: string;
  readonly host: string;
  readonly port: number;
  /** Epoch milliseconds when the silo started; distinguishes a restarted silo on the same address. */
  readonly startedAt: number;
}

export interface MemberInfo extends SiloAddress {
  /** Epoch milliseconds (membership clock) after which the member counts as dead unless renewed. */
  readonly leaseExpiresAt: number;
}

export type MembershipChange =
  | { readonly kind: "joined"; readonly member: MemberInfo }
  | { readonly kind: "left"; readonly siloId: string }
  | { readonly kind: "died"; readonly siloId: string };

/**
 * Cluster membership with heartbeat leases. Invariants:
 * - A member whose lease expired is not live, whether or not anyone has removed it yet.
 * - `renew` returns false once the member is no longer registered (it was declared dead): the
 *   silo must stop serving (self-fence) and may rejoin with a new identity.
 * - A silo self-fences when it cannot renew before its own lease expires, so by the time others
 *   may take its actors it has already stopped writing.
 */
export interface Membership {
  join(member: SiloAddress, leaseMs: number): Promise<void>;
  renew(siloId: string, leaseMs: number): Promise<boolean>;
  leave(siloId: string): Promise<void>;
  /** Members whose lease has not expired. */
  liveMembers(): Promise<MemberInfo[]>;
  /** Removes members whose lease expired; returns their ids. Safe to call from every silo. */
  removeExpired(): Promise<string[]>;
  /** Observes joins, leaves and deaths; returns an unsubscribe function. */
  watch(listener: (change: MembershipChange) => void): () => void;
  close(): Promise<void>;
}
