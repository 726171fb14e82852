import { LuaScript } from "./lua-script.js";

/**
 * Reminders on Redis. Per stream a HASH name → JSON of the registration (without the due time);
 * per partition a ZSET member `<stream>\0<name>` scored by due time (the due-time index, and the
 * only place the due time lives, so it stays exact); one HASH partition → highest claimed epoch.
 */

/** KEYS: stream hash, partition zset. ARGV: name, json, dueAt, member. */
export const UPSERT = new LuaScript(
  "granary-reminder-upsert",
  `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
`,
);

/** KEYS: stream hash. ARGV: due prefix, stream. Returns name, json, score triples. */
export const LIST = new LuaScript(
  "granary-reminder-list",
  `
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local record = cjson.decode(all[i + 1])
  local score = redis.call('ZSCORE', ARGV[1] .. record.partition, ARGV[2] .. '\\0' .. all[i])
  if score then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
    out[#out + 1] = score
  end
end
return out
`,
);

/** KEYS: stream hash. ARGV: due prefix, stream, name ('' = every reminder of the stream). Returns how many. */
export const CANCEL = new LuaScript(
  "granary-reminder-cancel",
  `
local names = {}
if ARGV[3] == '' then
  names = redis.call('HKEYS', KEYS[1])
else
  names[1] = ARGV[3]
end
local removed = 0
for _, name in ipairs(names) do
  local json = redis.call('HGET', KEYS[1], name)
  if json then
    local record = cjson.decode(json)
    redis.call('ZREM', ARGV[1] .. record.partition, ARGV[2] .. '\\0' .. name)
    redis.call('HDEL', KEYS[1], name)
    removed = removed + 1
  end
end
return removed
`,
);

/**
 * KEYS: epochs hash. ARGV: until, limit, due prefix, stream-hash prefix, then partition, epoch pairs.
 * Returns { fenced partitions, flat member, score, json triples }.
 */
export const CLAIM_DUE = new LuaScript(
  "granary-reminder-claim-due",
  `
local fenced = {}
local due = {}
for i = 5, #ARGV, 2 do
  local partition = ARGV[i]
  local epoch = tonumber(ARGV[i + 1])
  local current = tonumber(redis.call('HGET', KEYS[1], partition) or '0')
  if current > epoch then
    fenced[#fenced + 1] = partition
  else
    if current < epoch then redis.call('HSET', KEYS[1], partition, ARGV[i + 1]) end
    local zset = ARGV[3] .. partition
    local members = redis.call('ZRANGEBYSCORE', zset, '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
    for j = 1, #members, 2 do
      local member = members[j]
      local sep = string.find(member, '\\0', 1, true)
      local json = redis.call('HGET', ARGV[4] .. string.sub(member, 1, sep - 1), string.sub(member, sep + 1))
      if json then
        due[#due + 1] = member
        due[#due + 1] = members[j + 1]
        due[#due + 1] = json
      else
        redis.call('ZREM', zset, member)
      end
    end
  end
end
return { fenced, due }
`,
);

/**
 * KEYS: epochs hash, stream hash, partition zset. ARGV: partition, epoch, name, member,
 * registrationId, dueAt, nextDueAt ('' = delete). Returns 'advanced', 'changed' or 'fenced'.
 */
export const ADVANCE = new LuaScript(
  "granary-reminder-advance",
  `
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if current > tonumber(ARGV[2]) then return 'fenced' end
local json = redis.call('HGET', KEYS[2], ARGV[3])
if not json then return 'changed' end
if cjson.decode(json).registrationId ~= ARGV[5] then return 'changed' end
local score = redis.call('ZSCORE', KEYS[3], ARGV[4])
if not score or tonumber(score) ~= tonumber(ARGV[6]) then return 'changed' end
if ARGV[7] == '' then
  redis.call('HDEL', KEYS[2], ARGV[3])
  redis.call('ZREM', KEYS[3], ARGV[4])
else
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[4])
end
return 'advanced'
`,
);
