import { LUA_NOW_MS, LuaScript } from "./lua-script.js";

// Lease expiries are Redis server time (TIME), never a silo's clock: silos with skewed clocks still
// agree on who is live. A member is live while its expiry is in the future.

/** KEYS: members, leases. ARGV: siloId, member JSON, leaseMs, channel. Returns the expiry. */
export const JOIN = new LuaScript(
  "granary-membership-join",
  `${LUA_NOW_MS}
local expires = string.format('%d', now_ms() + tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], expires, ARGV[1])
redis.call('PUBLISH', ARGV[4], '{"kind":"joined","leaseExpiresAt":' .. expires .. ',"member":' .. ARGV[2] .. '}')
return expires
`,
);

/**
 * KEYS: members, leases. ARGV: siloId, leaseMs, channel. Returns 1 if renewed, 0 if the member is
 * gone. A lease that already expired is not renewed: others may have taken the silo's actors, so
 * the member is declared dead here and the silo must self-fence.
 */
export const RENEW = new LuaScript(
  "granary-membership-renew",
  `${LUA_NOW_MS}
local now = now_ms()
local expires = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not expires or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if tonumber(expires) <= now then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('PUBLISH', ARGV[3], '{"kind":"died","siloId":' .. cjson.encode(ARGV[1]) .. '}')
  return 0
end
redis.call('ZADD', KEYS[2], string.format('%d', now + tonumber(ARGV[2])), ARGV[1])
return 1
`,
);

/** KEYS: members, leases. ARGV: siloId, channel. Returns 1 if the member was registered. */
export const LEAVE = new LuaScript(
  "granary-membership-leave",
  `
local removed = redis.call('ZREM', KEYS[2], ARGV[1]) + redis.call('HDEL', KEYS[1], ARGV[1])
if removed == 0 then return 0 end
redis.call('PUBLISH', ARGV[2], '{"kind":"left","siloId":' .. cjson.encode(ARGV[1]) .. '}')
return 1
`,
);

/** KEYS: members, leases. Returns (siloId, member JSON, expiry) per live member. */
export const LIVE_MEMBERS = new LuaScript(
  "granary-membership-live",
  `${LUA_NOW_MS}
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. string.format('%d', now_ms()), '+inf', 'WITHSCORES')
local out = {}
for i = 1, #live, 2 do
  local member = redis.call('HGET', KEYS[1], live[i])
  if member then
    out[#out + 1] = live[i]
    out[#out + 1] = member
    out[#out + 1] = live[i + 1]
  end
end
return out
`,
);

/** KEYS: members, leases. ARGV: channel. Removes expired members, announces them; returns their ids. */
export const REMOVE_EXPIRED = new LuaScript(
  "granary-membership-remove-expired",
  `${LUA_NOW_MS}
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', string.format('%d', now_ms()))
for _, siloId in ipairs(expired) do
  redis.call('ZREM', KEYS[2], siloId)
  redis.call('HDEL', KEYS[1], siloId)
  redis.call('PUBLISH', ARGV[1], '{"kind":"died","siloId":' .. cjson.encode(siloId) .. '}')
end
return expired
`,
);
