import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { encode, UnauthorizedError } from "@granary/core";
import { decodeArray, MessageType, PROTOCOL_VERSION, protocolError } from "./protocol.js";
import { PeerRole, type ResolvedTransportOptions } from "./transport-options.js";

/**
 * The key exchange that opens every connection (mutual authentication with a shared cluster key):
 *
 *   server → Hello   [version, serverNonce, serverMaxFrameBytes, authenticated]
 *   client → Auth    [version, clientNonce, role, id, clientProof, clientMaxFrameBytes]
 *   server → Welcome [id, role, serverProof]   or   Reject [reason], then close
 *
 * clientProof = HMAC-SHA256(key, "client" ‖ transcript) and serverProof = HMAC-SHA256(key, "server" ‖
 * transcript ‖ server id, role), where the transcript holds both nonces and every field above. The
 * fresh nonces stop replays, the labels stop reflecting one side's proof back at it, and a client
 * that has a key never accepts a server that cannot prove it (no downgrade to the open mode).
 */

const NONCE_BYTES = 32;
const LABEL = "granary-handshake-v1";
/** Handshake frames are tiny; an unauthenticated peer must not make us buffer more. */
export const HANDSHAKE_MAX_FRAME_BYTES = 4096;

/** What each side learns about the other from a completed handshake. */
export interface RemoteEndpoint {
  readonly id: string;
  readonly role: PeerRole;
  /** Largest frame the remote accepts: we never send a bigger one. */
  readonly maxFrameBytes: number;
}

interface Transcript {
  readonly serverNonce: Buffer;
  readonly serverMaxFrameBytes: number;
  readonly authenticated: boolean;
  readonly clientNonce: Buffer;
  readonly role: PeerRole;
  readonly id: string;
  readonly clientMaxFrameBytes: number;
}

function mac(key: Buffer, side: "client" | "server", t: Transcript, extra: readonly string[] = []): Buffer {
  const hmac = createHmac("sha256", key);
  const parts = [
    LABEL,
    side,
    t.serverNonce,
    String(t.serverMaxFrameBytes),
    String(t.authenticated),
    t.clientNonce,
    t.role,
    t.id,
    String(t.clientMaxFrameBytes),
    ...extra,
  ];
  const length = Buffer.alloc(4);
  for (const part of parts) {
    const bytes = typeof part === "string" ? Buffer.from(part, "utf8") : part;
    length.writeUInt32BE(bytes.length, 0);
    hmac.update(length);
    hmac.update(bytes);
  }
  return hmac.digest();
}

function proofMatches(expected: Buffer, actual: unknown): boolean {
  return actual instanceof Uint8Array && actual.length === expected.length && timingSafeEqual(expected, actual);
}

/** The accepting side of the handshake. Create one per socket. */
export class ServerHandshake {
  readonly #options: ResolvedTransportOptions;
  readonly #nonce = randomBytes(NONCE_BYTES);

  constructor(options: ResolvedTransportOptions) {
    this.#options = options;
  }

  /** Body of the Hello frame that opens the conversation. */
  hello(): Buffer {
    const authenticated = this.#options.clusterKey !== undefined;
    return encode([MessageType.Hello, PROTOCOL_VERSION, this.#nonce, this.#options.maxFrameBytes, authenticated]);
  }

  /**
   * Checks the client's Auth frame. Returns the frame to answer with and, when accepted, who the
   * client is. Throws a ConnectionError for a malformed frame.
   */
  receive(body: Buffer): { accepted: RemoteEndpoint; reply: Buffer } | { rejected: string; reply: Buffer } {
    const frame = decodeArray(body);
    const [type, version, clientNonce, role, id, proof, clientMaxFrameBytes] = frame;
    if (type !== MessageType.Auth) throw protocolError("expected an Auth frame");
    if (version !== PROTOCOL_VERSION) {
      return reject(`protocol version ${String(version)} is not supported (this end speaks ${PROTOCOL_VERSION})`);
    }
    if (
      !(clientNonce instanceof Uint8Array) ||
      clientNonce.length !== NONCE_BYTES ||
      (role !== PeerRole.Silo && role !== PeerRole.Client) ||
      typeof id !== "string" ||
      id.length === 0 ||
      id.length > 256 ||
      typeof clientMaxFrameBytes !== "number" ||
      !Number.isSafeInteger(clientMaxFrameBytes) ||
      clientMaxFrameBytes < HANDSHAKE_MAX_FRAME_BYTES
    ) {
      throw protocolError("malformed Auth frame");
    }
    const key = this.#options.clusterKey;
    const transcript: Transcript = {
      serverNonce: this.#nonce,
      serverMaxFrameBytes: this.#options.maxFrameBytes,
      authenticated: key !== undefined,
      clientNonce: Buffer.from(clientNonce),
      role,
      id,
      clientMaxFrameBytes,
    };
    let serverProof: Buffer | null = null;
    if (key !== undefined) {
      if (proof === null || proof === undefined) return reject("the peer presented no cluster key proof");
      if (!proofMatches(mac(key, "client", transcript), proof)) return reject("the peer's cluster key proof is wrong");
      serverProof = mac(key, "server", transcript, [this.#options.id, this.#options.role]);
    }
    const reply = encode([MessageType.Welcome, this.#options.id, this.#options.role, serverProof]);
    return { accepted: { id, role, maxFrameBytes: clientMaxFrameBytes }, reply };
  }
}

function reject(reason: string): { rejected: string; reply: Buffer } {
  return { rejected: reason, reply: encode([MessageType.Reject, reason]) };
}

/** The connecting side of the handshake. Create one per socket. */
export class ClientHandshake {
  readonly #options: ResolvedTransportOptions;
  readonly #remote: string;
  readonly #nonce = randomBytes(NONCE_BYTES);
  #transcript: Transcript | undefined;

  /** @param remote "host:port", for error messages */
  constructor(options: ResolvedTransportOptions, remote: string) {
    this.#options = options;
    this.#remote = remote;
  }

  /** Answers the server's Hello with an Auth frame body. Throws UnauthorizedError or ConnectionError. */
  answerHello(body: Buffer): Buffer {
    const [type, version, serverNonce, serverMaxFrameBytes, authenticated] = decodeArray(body);
    if (type !== MessageType.Hello) throw protocolError("expected a Hello frame");
    if (version !== PROTOCOL_VERSION) {
      throw protocolError(`server speaks protocol version ${String(version)}, this end ${PROTOCOL_VERSION}`);
    }
    if (
      !(serverNonce instanceof Uint8Array) ||
      serverNonce.length !== NONCE_BYTES ||
      typeof serverMaxFrameBytes !== "number" ||
      !Number.isSafeInteger(serverMaxFrameBytes) ||
      serverMaxFrameBytes < HANDSHAKE_MAX_FRAME_BYTES ||
      typeof authenticated !== "boolean"
    ) {
      throw protocolError("malformed Hello frame");
    }
    const key = this.#options.clusterKey;
    if (key !== undefined && !authenticated) {
      throw new UnauthorizedError(
        `server ${this.#remote} runs without a cluster key (allowUnauthenticated), but this endpoint has a clusterKey and only talks to peers that prove it`,
      );
    }
    const transcript: Transcript = {
      serverNonce: Buffer.from(serverNonce),
      serverMaxFrameBytes,
      authenticated,
      clientNonce: this.#nonce,
      role: this.#options.role,
      id: this.#options.id,
      clientMaxFrameBytes: this.#options.maxFrameBytes,
    };
    this.#transcript = transcript;
    const proof = key === undefined ? null : mac(key, "client", transcript);
    return encode([
      MessageType.Auth,
      PROTOCOL_VERSION,
      this.#nonce,
      transcript.role,
      transcript.id,
      proof,
      transcript.clientMaxFrameBytes,
    ]);
  }

  /** Checks the server's Welcome (or Reject). Throws UnauthorizedError or ConnectionError. */
  finish(body: Buffer): RemoteEndpoint {
    const transcript = this.#transcript;
    if (transcript === undefined) throw protocolError("handshake frame out of order");
    const frame = decodeArray(body);
    if (frame[0] === MessageType.Reject) {
      throw new UnauthorizedError(
        `server ${this.#remote} refused this endpoint: ${String(frame[1])}; check that every silo and client uses the same clusterKey`,
      );
    }
    const [type, id, role, proof] = frame;
    if (type !== MessageType.Welcome) throw protocolError("expected a Welcome frame");
    if (typeof id !== "string" || (role !== PeerRole.Silo && role !== PeerRole.Client)) {
      throw protocolError("malformed Welcome frame");
    }
    const key = this.#options.clusterKey;
    if (key !== undefined && !proofMatches(mac(key, "server", transcript, [id, role]), proof)) {
      throw new UnauthorizedError(
        `server ${this.#remote} could not prove it holds the cluster key: it is not a member of this cluster (or uses another clusterKey)`,
      );
    }
    return { id, role, maxFrameBytes: transcript.serverMaxFrameBytes };
  }
}
