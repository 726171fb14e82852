import { LUA_NOW_MS, LuaScript } from "./lua-script.js";

// A directory entry's owner is live while its membership lease (the leases ZSET of the same
// cluster, hence the same hash slot) expires in the future, by Redis server time.
const LUA_IS_LIVE = `
local function is_live(leases, siloId, now)
  local expires = redis.call('ZSCORE', leases, siloId)
  return expires and tonumber(expires) > now
end
`;

/**
 * Compare-and-set registration.
 * KEYS: entry, epoch, new owner's actor set, leases. ARGV: actorKey, siloId, activationId,
 * silo-actors key prefix. Returns {siloId, activationId, epoch, registered 0|1}: the winner.
 *
 * The epoch is max(last epoch of this actor + 1, Redis time in ms), remembered in a key that
 * outlives the entry: epochs keep growing across unregister/register, and even if that key were
 * lost, Redis time still puts a new epoch above every older one.
 */
export const REGISTER = new LuaScript(
  "granary-directory-register",
  `${LUA_NOW_MS}${LUA_IS_LIVE}
local now = now_ms()
local current = redis.call('HMGET', KEYS[1], 'siloId', 'activationId', 'epoch')
if current[1] then
  if is_live(KEYS[4], current[1], now) then return {current[1], current[2], current[3], 0} end
  redis.call('SREM', ARGV[4] .. current[1], ARGV[1])
end
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local epoch = string.format('%d', math.max(previous + 1, now))
redis.call('SET', KEYS[2], epoch)
redis.call('HSET', KEYS[1], 'siloId', ARGV[2], 'activationId', ARGV[3], 'epoch', epoch)
redis.call('SADD', KEYS[3], ARGV[1])
return {ARGV[2], ARGV[3], epoch, 1}
`,
);

/** KEYS: entry, leases. Returns {siloId, activationId, epoch} or {} when absent or owned by a dead silo. */
export const LOOKUP = new LuaScript(
  "granary-directory-lookup",
  `${LUA_NOW_MS}${LUA_IS_LIVE}
local current = redis.call('HMGET', KEYS[1], 'siloId', 'activationId', 'epoch')
if not current[1] or not is_live(KEYS[2], current[1], now_ms()) then return {} end
return current
`,
);

/** KEYS: entry. ARGV: actorKey, activationId, silo-actors key prefix. Returns 1 if removed. */
export const UNREGISTER = new LuaScript(
  "granary-directory-unregister",
  `
local current = redis.call('HMGET', KEYS[1], 'siloId', 'activationId')
if not current[1] or current[2] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[3] .. current[1], ARGV[1])
return 1
`,
);

/**
 * Removes up to ARGV[3] entries of a silo per call, so a silo with many actors does not block
 * Redis in one long script. KEYS: the silo's actor set. ARGV: siloId, entry key prefix, batch.
 * Returns {removed, remaining}.
 */
export const REMOVE_SILO_BATCH = new LuaScript(
  "granary-directory-remove-silo",
  `
local actorKeys = redis.call('SPOP', KEYS[1], tonumber(ARGV[3]))
local removed = 0
for _, actorKey in ipairs(actorKeys) do
  local entry = ARGV[2] .. actorKey
  if redis.call('HGET', entry, 'siloId') == ARGV[1] then
    redis.call('DEL', entry)
    removed = removed + 1
  end
end
return {removed, redis.call('SCARD', KEYS[1])}
`,
);
