import { InvalidArgumentError } from "../errors.js";

/** A host and a TCP port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const HOST_PORT = /^(?:\[([^\]\s]+)\]|([^:\s[\]]+)):(\d{1,5})$/;

/** "host:port", with an IPv6 host in brackets ("[::1]:11111"): the one form every address is written in. */
export function formatAddress(address: HostPort): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** The host and port of "host:port" or "[ipv6]:port"; undefined when it is not one (or the port is out of range). */
export function tryParseAddress(address: string): HostPort | undefined {
  const match = HOST_PORT.exec(address);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}

/** Like {@link tryParseAddress}, but an InvalidArgumentError naming the bad address. */
export function parseAddress(address: string): HostPort {
  const parsed = tryParseAddress(address);
  if (!parsed) {
    throw new InvalidArgumentError(`address ${JSON.stringify(address)} is not "host:port" (IPv6 as "[::1]:11111")`, {
      address,
    });
  }
  return parsed;
}
