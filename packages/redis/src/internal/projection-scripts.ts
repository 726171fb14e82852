import { LuaScript } from "./lua-script.js";

/**
 * One projection commit, atomically: fencing, expected position, document writes, checkpoint.
 * KEYS: checkpoint hash, documents hash, key index (ZSET, score 0, for ordered paging), registry set.
 * ARGV: projection id, expected position, new position, epoch, ready (0/1), then (op, key, json)
 * triples with op "s" (set) or "d" (delete).
 * Returns {"ok"} or {"fenced", epoch} or {"conflict", position}.
 */
export const PROJECTION_COMMIT = new LuaScript(
  "granary:projection-commit",
  `
local stored = redis.call('HMGET', KEYS[1], 'position', 'epoch', 'ready')
local position = tonumber(stored[1] or '0')
local epoch = tonumber(stored[2] or '0')
local ready = stored[3] == '1'
local newEpoch = tonumber(ARGV[4])
if newEpoch < epoch then return {'fenced', tostring(epoch)} end
if position ~= tonumber(ARGV[2]) then return {'conflict', tostring(position)} end
for i = 6, #ARGV, 3 do
  local key = ARGV[i + 1]
  if ARGV[i] == 's' then
    redis.call('HSET', KEYS[2], key, ARGV[i + 2])
    redis.call('ZADD', KEYS[3], 0, key)
  else
    redis.call('HDEL', KEYS[2], key)
    redis.call('ZREM', KEYS[3], key)
  end
end
if ARGV[5] == '1' then ready = true end
redis.call('HSET', KEYS[1], 'position', ARGV[3], 'epoch', ARGV[4], 'ready', ready and '1' or '0')
redis.call('SADD', KEYS[4], ARGV[1])
return {'ok'}
`,
);

/** KEYS: checkpoint, documents, key index, registry. ARGV: projection id. */
export const PROJECTION_DROP = new LuaScript(
  "granary:projection-drop",
  `
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[1])
return 1
`,
);
