import { describe, expect, it } from "vitest";
import { ErrorCode, GranaryError } from "../errors.js";
import { Upcasters } from "../events/upcasting.js";
import { formatAddress, parseAddress, tryParseAddress } from "./address.js";
import { checkRedisUrl, isRedisUrl } from "./redis-url.js";
import { checkUpcastersOption } from "./upcasters-option.js";

describe("options kit", () => {
  it("redis URLs - redis://, rediss:// and Unix socket paths are accepted, anything else names the option", () => {
    for (const url of ["redis://127.0.0.1:6379", "rediss://user:pw@h:6380/2", "/run/redis/redis.sock"]) {
      expect(isRedisUrl(url)).toBe(true);
      expect(checkRedisUrl("redis", url)).toBe(url);
    }
    for (const bad of ["http://h:6379", "127.0.0.1:6379", "", "redis-host"]) {
      expect(isRedisUrl(bad)).toBe(false);
      const error = (() => {
        try {
          checkRedisUrl("redis", bad);
        } catch (e) {
          return e as GranaryError;
        }
        throw new Error("accepted");
      })();
      expect(error.code).toBe(ErrorCode.InvalidConfiguration);
      expect(error.message).toContain("`redis`");
    }
  });

  it("addresses - format and parse are inverse, IPv6 in brackets, bad ports refused", () => {
    for (const address of [
      { host: "10.0.0.1", port: 11111 },
      { host: "::1", port: 80 },
      { host: "silo-a.local", port: 65535 },
    ]) {
      expect(parseAddress(formatAddress(address))).toEqual(address);
    }
    expect(formatAddress({ host: "::1", port: 80 })).toBe("[::1]:80");
    for (const bad of ["nohost", "h:0", "h:70000", "::1:80", "h :1", "[::1]"]) {
      expect(tryParseAddress(bad)).toBeUndefined();
      expect(() => parseAddress(bad)).toThrow(GranaryError);
    }
  });

  it("upcasters - recognised by brand across package copies, not by instanceof", () => {
    const upcasters = new Upcasters();
    expect(checkUpcastersOption(upcasters)).toBe(upcasters);
    expect(checkUpcastersOption(undefined)).toBeUndefined();
    // What an Upcasters from a second copy of @granary/core looks like to this copy.
    const foreign = { [Symbol.for("@granary/core.Upcasters")]: true, upcast: (e: unknown) => e };
    expect(Upcasters.isUpcasters(foreign)).toBe(true);
    expect(() => checkUpcastersOption({ upcast: () => ({}) })).toThrow(/Upcasters/);
  });
});
