-- The fast cache: a per-worker LRU in front of a lua_shared_dict shared by all workers.
--
-- Every entry has two deadlines:
--   fresh until  - used without asking Redis (at most max_ttl, never past the staple's expiry);
--   kept until   - may still be used when Redis cannot be reached (a staple: its expiry).
-- The LRU holds fresh entries only (its TTL is the freshness), so a stale entry always comes from
-- the shared dict, where the dict's own expiry is "kept until" and the flags hold "fresh until".
-- The first byte of a dict value says what the entry is, so one get() answers everything.

local lrucache = require "resty.lrucache"

local byte = string.byte
local sub = string.sub
local floor = math.floor
local min = math.min
local log = ngx.log
local WARN = ngx.WARN
local ngx_shared = ngx.shared
local setmetatable = setmetatable
local pairs = pairs
local ngx_now = ngx.now

-- A full dict is worth one warning a minute per worker, not one per handshake.
local FULL_WARNING_EVERY = 60
local last_full_warning = 0

local _M = {}
local mt = { __index = _M }

-- Entry kinds (the first byte of a shared dict value).
local KINDS = {
    STAPLE = "R",   -- a staple read from Redis
    FETCHED = "F",  -- a staple fetched from the responder by this module (fetch_on_miss)
    HOST = "H",     -- a server name's certificate fingerprint (binary, 32 bytes)
    MISS = "M",     -- Redis has nothing for this key
}
_M.KINDS = KINDS

local KIND_BY_BYTE = {}
for _, kind in pairs(KINDS) do
    KIND_BY_BYTE[byte(kind)] = kind
end


function _M.new(dict_name, lru_size)
    local lru, err = lrucache.new(lru_size)
    if not lru then
        return nil, "cannot create the LRU cache: " .. (err or "unknown error")
    end
    return setmetatable({ lru = lru, dict = ngx_shared[dict_name] }, mt)
end


-- Looks `key` up, LRU first.
-- Returns value, kind, level ("lru" | "shm"), fresh (boolean), kept_for (seconds; stale entries
-- only), or nil when neither level has the key.
function _M.get(self, key, now)
    local item = self.lru:get(key)
    if item then
        return item[2], item[1], "lru", true
    end

    local raw, fresh_until = self.dict:get(key)
    if not raw then
        return nil
    end
    local kind = KIND_BY_BYTE[byte(raw)]
    if not kind then
        return nil
    end
    local value = sub(raw, 2)
    fresh_until = fresh_until or 0
    if now < fresh_until then
        self.lru:set(key, { kind, value }, fresh_until - now)
        return value, kind, "shm", true
    end
    local kept_for = self.dict:ttl(key)
    return value, kind, "shm", false, kept_for
end


-- Stores `value` of `kind` under `key`: fresh for `fresh_for` seconds, kept for `keep_for`
-- seconds (keep_for >= fresh_for; 0 keeps it until the dict needs the room).
function _M.set(self, key, kind, value, fresh_for, keep_for, now)
    if keep_for > 0 then
        fresh_for = min(fresh_for, keep_for)
    end
    self.lru:set(key, { kind, value }, fresh_for)
    -- The flags are a uint32: whole seconds, rounded down so the dict never extends freshness.
    local fresh_until = floor(now + fresh_for)
    local ok, err, forcible = self.dict:set(key, kind .. value, keep_for, fresh_until)
    if (not ok or forcible) and ngx_now() - last_full_warning >= FULL_WARNING_EVERY then
        -- Evicted entries are simply read from Redis again: a hint to size the dict, no failure.
        last_full_warning = ngx_now()
        log(WARN, "[staple] shared dict ", ok and "is full, evicting old entries" or err,
            "; increase the lua_shared_dict size")
    end
end


return _M
