import { randomUUID } from "node:crypto";
import type { ConnectionOptions as TlsConnectOptions, TlsOptions as TlsServerOptions } from "node:tls";
import { type ErrorClass, InvalidConfigurationError } from "@granary/core";
import { type Logger, pino } from "pino";

/** What a peer says it is during the handshake; logged and handed to request handlers. */
export const PeerRole = {
  /** A silo: hosts actors and talks to other silos. */
  Silo: "silo",
  /** A client (or gateway user) that only calls actors. */
  Client: "client",
} as const;
export type PeerRole = (typeof PeerRole)[keyof typeof PeerRole];

/** 16 MiB: far above any sane actor call, small enough that one peer cannot exhaust memory. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** 8 MiB: well above a LAN's bandwidth-delay product, so it never throttles a healthy link. */
export const DEFAULT_MAX_OUTSTANDING_BYTES = 8 * 1024 * 1024;
/** 5 s: a healthy peer finishes TCP + TLS + key exchange in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
/** 5 s: long enough for in-flight handlers to answer on graceful close, short enough for SIGTERM. */
export const DEFAULT_CLOSE_GRACE_MS = 5_000;
/**
 * 30 s, the default call timeout: a healthy link moves 64 KiB in milliseconds even when slow, and a
 * request stalled that long has lost its caller anyway. Short enough that a peer holding buffers on
 * purpose gives them back soon.
 */
export const DEFAULT_PARTIAL_FRAME_TIMEOUT_MS = 30_000;
/**
 * 128 MiB: eight frames of the default maximum size arriving at once; forty peers stalling on
 * 16 MiB frames pinned 640 MiB before this bound.
 */
export const DEFAULT_MAX_BUFFERED_FRAME_BYTES = 128 * 1024 * 1024;
/** Loopback: nothing is exposed to the network unless the host is set on purpose. */
export const DEFAULT_HOST = "127.0.0.1";
/** A shorter cluster key is guessable; 32 random bytes (`openssl rand -hex 32`) is the advice. */
export const MIN_CLUSTER_KEY_BYTES = 16;
const MIN_FRAME_BYTES = 1024;
const MAX_FRAME_BYTES = 2 ** 31 - 1;

/** Options shared by the server, a single connection and the pool. All optional. */
export interface TransportOptions {
  /**
   * Shared secret every silo and client of the cluster holds. Both ends prove they know it with
   * HMAC-SHA256 over fresh nonces (mutual authentication); it never crosses the wire.
   * At least {@link MIN_CLUSTER_KEY_BYTES} bytes.
   * @default undefined, which is an error unless `allowUnauthenticated` is true
   */
  readonly clusterKey?: string | Uint8Array | undefined;
  /**
   * Run without a cluster key: any peer that can reach the port can call. Only for development or a
   * network you trust completely. Conflicts with `clusterKey`.
   * @default false
   */
  readonly allowUnauthenticated?: boolean | undefined;
  /**
   * Largest frame accepted from a peer. A peer announcing a larger one is disconnected before a byte
   * of it is buffered; sending one fails locally with a SerializationError.
   * @default DEFAULT_MAX_FRAME_BYTES (16 MiB)
   */
  readonly maxFrameBytes?: number | undefined;
  /**
   * Bytes a connection may hold unsent (queued plus in the socket buffer) before `request` and `send`
   * wait for the peer to read. A server also stops reading new requests from that peer meanwhile.
   * @default DEFAULT_MAX_OUTSTANDING_BYTES (8 MiB)
   */
  readonly maxOutstandingBytes?: number | undefined;
  /**
   * After the handshake, a frame that has begun must keep arriving: the connection is closed (and
   * logged with the peer and the bytes it held) when `partialFrameTimeoutMs` pass without 64 KiB of
   * the frame, or its end, arriving. A large frame on a slow link is never cut while it moves at
   * least 64 KiB per period; an idle connection (between frames) is never closed by this.
   * @default DEFAULT_PARTIAL_FRAME_TIMEOUT_MS (30 s)
   */
  readonly partialFrameTimeoutMs?: number | undefined;
  /**
   * Server only: bytes it may hold for frames still arriving, across all its connections. A frame
   * that does not arrive in one read needs a buffer of its announced size until its end comes; a
   * connection starting a frame that would take the total above this bound is closed (warn log),
   * the others keep theirs. Frames that arrive whole take nothing from it. At least `maxFrameBytes`.
   * @default DEFAULT_MAX_BUFFERED_FRAME_BYTES (128 MiB), or `maxFrameBytes` when that is larger
   */
  readonly maxBufferedFrameBytes?: number | undefined;
  /**
   * Time allowed for TCP connect (client), TLS and the key exchange. Peers that take longer are
   * dropped.
   * @default DEFAULT_HANDSHAKE_TIMEOUT_MS (5 s)
   */
  readonly handshakeTimeoutMs?: number | undefined;
  /**
   * On graceful `close()`, how long in-flight requests may take to be answered before sockets are
   * destroyed.
   * @default DEFAULT_CLOSE_GRACE_MS (5 s)
   */
  readonly closeGraceMs?: number | undefined;
  /** This endpoint's id, sent to the peer after authentication. @default `${role}-<random uuid>` */
  readonly id?: string | undefined;
  /** This endpoint's role, sent to the peer. @default "silo" for a server, "client" otherwise */
  readonly role?: PeerRole | undefined;
  /** A pino (or pino-compatible) logger. @default a silent logger */
  readonly logger?: Logger | undefined;
  /** Error classes (by `name`) revived with their prototype when a remote handler throws them. @default none */
  readonly errorClasses?: ReadonlyMap<string, ErrorClass> | undefined;
}

/** {@link TransportOptions} with every default applied and every value checked. */
export interface ResolvedTransportOptions {
  /** `undefined` only when `allowUnauthenticated` is true. */
  readonly clusterKey: Buffer | undefined;
  readonly allowUnauthenticated: boolean;
  readonly maxFrameBytes: number;
  readonly maxOutstandingBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly closeGraceMs: number;
  readonly partialFrameTimeoutMs: number;
  readonly maxBufferedFrameBytes: number;
  readonly id: string;
  readonly role: PeerRole;
  readonly logger: Logger;
  readonly errorClasses: ReadonlyMap<string, ErrorClass>;
}

/** Where a server listens, plus its TLS settings. */
export interface ListenAddressOptions {
  /** @default DEFAULT_HOST ("127.0.0.1"); use "0.0.0.0" or "::" to accept remote peers */
  readonly host?: string | undefined;
  /** @default 0 (an ephemeral port; read it back from `server.address`) */
  readonly port?: number | undefined;
  /** TLS for the listening socket (key, cert, ca, requestCert, ...). @default plain TCP */
  readonly tls?: TlsServerOptions | undefined;
}

/** Where a connection goes, plus its TLS settings. */
export interface ConnectAddressOptions {
  readonly host: string;
  readonly port: number;
  /** TLS for the connection (ca, cert, key, servername, ...). @default plain TCP */
  readonly tls?: Omit<TlsConnectOptions, "host" | "port" | "socket"> | undefined;
}

/**
 * Applies defaults and validates. Throws {@link InvalidConfigurationError} naming the option.
 * @param defaultRole the role used when `options.role` is absent
 */
export function resolveTransportOptions(
  options: TransportOptions = {},
  defaultRole: PeerRole = PeerRole.Client,
): ResolvedTransportOptions {
  const allowUnauthenticated = options.allowUnauthenticated ?? false;
  const clusterKey = resolveClusterKey(options.clusterKey, allowUnauthenticated);
  const role = options.role ?? defaultRole;
  if (role !== PeerRole.Silo && role !== PeerRole.Client) {
    throw new InvalidConfigurationError("role", `must be "silo" or "client", got ${JSON.stringify(role)}`);
  }
  const id = options.id ?? `${role}-${randomUUID()}`;
  if (typeof id !== "string" || id.length === 0 || id.length > 256) {
    throw new InvalidConfigurationError("id", "must be a non-empty string of at most 256 characters");
  }
  const maxFrameBytes = integerIn(
    "maxFrameBytes",
    options.maxFrameBytes,
    DEFAULT_MAX_FRAME_BYTES,
    MIN_FRAME_BYTES,
    MAX_FRAME_BYTES,
  );
  return {
    clusterKey,
    allowUnauthenticated,
    maxFrameBytes,
    maxOutstandingBytes: integerIn(
      "maxOutstandingBytes",
      options.maxOutstandingBytes,
      DEFAULT_MAX_OUTSTANDING_BYTES,
      MIN_FRAME_BYTES,
      Number.MAX_SAFE_INTEGER,
    ),
    handshakeTimeoutMs: integerIn(
      "handshakeTimeoutMs",
      options.handshakeTimeoutMs,
      DEFAULT_HANDSHAKE_TIMEOUT_MS,
      1,
      2 ** 31 - 1,
    ),
    closeGraceMs: integerIn("closeGraceMs", options.closeGraceMs, DEFAULT_CLOSE_GRACE_MS, 0, 2 ** 31 - 1),
    partialFrameTimeoutMs: integerIn(
      "partialFrameTimeoutMs",
      options.partialFrameTimeoutMs,
      DEFAULT_PARTIAL_FRAME_TIMEOUT_MS,
      1,
      2 ** 31 - 1,
    ),
    maxBufferedFrameBytes: resolveMaxBufferedFrameBytes(options.maxBufferedFrameBytes, maxFrameBytes),
    id,
    role,
    logger: options.logger ?? pino({ level: "silent" }),
    errorClasses: options.errorClasses ?? new Map(),
  };
}

/** Checks a listen address; returns host and port with defaults applied. */
export function resolveListenAddress(options: ListenAddressOptions): { host: string; port: number } {
  const host = options.host ?? DEFAULT_HOST;
  if (typeof host !== "string" || host.length === 0) {
    throw new InvalidConfigurationError(
      "host",
      `must be a non-empty host name or IP address, got ${JSON.stringify(host)}`,
    );
  }
  return { host, port: integerIn("port", options.port, 0, 0, 65_535) };
}

/** Checks a connect address. */
export function resolveConnectAddress(options: ConnectAddressOptions): { host: string; port: number } {
  if (typeof options.host !== "string" || options.host.length === 0) {
    throw new InvalidConfigurationError(
      "host",
      `must be a non-empty host name or IP address, got ${JSON.stringify(options.host)}`,
    );
  }
  return { host: options.host, port: integerIn("port", options.port, Number.NaN, 1, 65_535) };
}

function resolveClusterKey(key: string | Uint8Array | undefined, allowUnauthenticated: boolean): Buffer | undefined {
  if (key === undefined) {
    if (allowUnauthenticated) return undefined;
    throw new InvalidConfigurationError(
      "clusterKey",
      "is required: give every silo and client the same secret (e.g. `openssl rand -hex 32`), or set `allowUnauthenticated: true` to run an open transport on a network you trust",
    );
  }
  if (allowUnauthenticated) {
    throw new InvalidConfigurationError(
      "allowUnauthenticated",
      "conflicts with `clusterKey`: set a cluster key (authenticated) or allowUnauthenticated (open), not both",
    );
  }
  const bytes = typeof key === "string" ? Buffer.from(key, "utf8") : Buffer.from(key);
  if (bytes.length < MIN_CLUSTER_KEY_BYTES) {
    throw new InvalidConfigurationError(
      "clusterKey",
      `is ${bytes.length} bytes; use at least ${MIN_CLUSTER_KEY_BYTES} random bytes (e.g. \`openssl rand -hex 32\`)`,
    );
  }
  return bytes;
}

function resolveMaxBufferedFrameBytes(value: number | undefined, maxFrameBytes: number): number {
  const resolved = integerIn(
    "maxBufferedFrameBytes",
    value,
    Math.max(DEFAULT_MAX_BUFFERED_FRAME_BYTES, maxFrameBytes),
    1,
    Number.MAX_SAFE_INTEGER,
  );
  if (resolved < maxFrameBytes) {
    throw new InvalidConfigurationError(
      "maxBufferedFrameBytes",
      `is ${resolved}, below maxFrameBytes (${maxFrameBytes}): a frame of the largest allowed size could never be received; raise it, or lower maxFrameBytes`,
    );
  }
  return resolved;
}

function integerIn(option: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < min || resolved > max) {
    throw new InvalidConfigurationError(option, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return resolved;
}

export type { TlsConnectOptions, TlsServerOptions };
