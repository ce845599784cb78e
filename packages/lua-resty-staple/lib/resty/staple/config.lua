-- Configuration for resty.staple: documented defaults and validation.
--
-- Validation raises at init time (init_by_lua), so a typo makes `nginx -t` fail instead of
-- silently turning stapling off during handshakes.

local address_policy = require "resty.staple.address_policy"
local resolve = require "resty.staple.resolve"

local type = type
local pairs = pairs
local tostring = tostring
local error = error
local floor = math.floor
local ngx_shared = ngx.shared

local _M = {}

local DEFAULTS = {
    prefix = "ocsp:",         -- Redis key prefix (contract v1)
    shared_dict = "staples",  -- lua_shared_dict shared by the workers (the second cache level)
    lru_size = 10000,         -- entries in each worker's LRU (the first cache level)
    max_ttl = 300,            -- seconds a cached staple is used before Redis is asked again
    miss_ttl = 10,            -- seconds "Redis has no staple" is remembered
    error_backoff = 2,        -- seconds Redis is left alone after a connection error
}

local REDIS_DEFAULTS = {
    host = "127.0.0.1",       -- or "unix:/path/to/redis.sock"
    port = 6379,
    db = 0,
    -- password (nil: no AUTH) and username (Redis 6 ACL user) have no default.
    timeout_ms = 50,          -- the whole Redis round trip, connect included
    pool_size = 32,           -- connections per worker, busy and idle together (the cap)
    backlog = 256,            -- lookups per worker waiting for a connection when all are busy
    keepalive_ms = 60000,     -- idle time before a pooled connection is closed
}

local FETCH_DEFAULTS = {
    timeout_ms = 2000,        -- the whole HTTP exchange with the responder
    rate = 10,                -- fetches per second, all workers together
    retry_after = 60,         -- seconds before the same certificate may be fetched again
    inline = false,           -- true: the handshake waits for the fetch; false: a timer fetches
    max_size = 16384,         -- bytes; a larger response body is refused
    max_header_line = 4096,   -- bytes; a longer status or header line is refused
    max_headers = 64,         -- header lines; more are refused
    responder_allow = {},     -- CIDR ranges and host names the address policy lets through
    -- nameservers (no default: /etc/resolv.conf's, read at configure time)
}

-- fetch_on_miss options that may be given but have no default.
local FETCH_OPTIONAL = { nameservers = true }


local function fail(path, expected, value)
    error("resty.staple: " .. path .. " must be " .. expected .. ", got "
          .. type(value) .. " " .. tostring(value), 3)
end


local function positive_number(path, value)
    if type(value) ~= "number" or value <= 0 then
        fail(path, "a positive number", value)
    end
    return value
end


local function positive_integer(path, value)
    if type(value) ~= "number" or value < 1 or floor(value) ~= value then
        fail(path, "a positive integer", value)
    end
    return value
end


local function optional_string(path, value)
    if value ~= nil and (type(value) ~= "string" or value == "") then
        fail(path, "a non-empty string or nil", value)
    end
    return value
end


-- Redis options that may be given but have no default.
local REDIS_OPTIONAL = { password = true, username = true }


-- Copies `defaults`, overridden by `given`; an unknown key is an error so typos are caught.
local function merge(path, defaults, given, optional)
    if given ~= nil and type(given) ~= "table" then
        fail(path, "a table", given)
    end
    local out = {}
    for k, v in pairs(defaults) do
        out[k] = v
    end
    for k, v in pairs(given or {}) do
        if defaults[k] == nil and not (optional and optional[k]) then
            error("resty.staple: unknown option " .. path .. "." .. tostring(k), 3)
        end
        out[k] = v
    end
    return out
end


local function validate_redis(given)
    local r = merge("redis", REDIS_DEFAULTS, given, REDIS_OPTIONAL)
    if type(r.host) ~= "string" or r.host == "" then
        fail("redis.host", "a non-empty string", r.host)
    end
    positive_integer("redis.port", r.port)
    if type(r.db) ~= "number" or r.db < 0 or floor(r.db) ~= r.db then
        fail("redis.db", "a non-negative integer", r.db)
    end
    optional_string("redis.password", r.password)
    optional_string("redis.username", r.username)
    positive_integer("redis.timeout_ms", r.timeout_ms)
    positive_integer("redis.pool_size", r.pool_size)
    positive_integer("redis.backlog", r.backlog)
    positive_integer("redis.keepalive_ms", r.keepalive_ms)
    r.unix = r.host:sub(1, 5) == "unix:"
    -- A pool of our own: the default pool ("host:port") is shared with any other Lua code, which
    -- may have SELECTed another database on the connections it returns.
    r.pool = "resty.staple:" .. r.host .. ":" .. r.port .. ":" .. r.db
    r.connect_opts = { pool = r.pool, pool_size = r.pool_size, backlog = r.backlog }
    return r
end


local function validate_fetch(given)
    if given == nil or given == false then
        return false
    end
    if given == true then
        given = {}
    end
    local f = merge("fetch_on_miss", FETCH_DEFAULTS, given, FETCH_OPTIONAL)
    positive_integer("fetch_on_miss.timeout_ms", f.timeout_ms)
    positive_integer("fetch_on_miss.rate", f.rate)
    positive_number("fetch_on_miss.retry_after", f.retry_after)
    positive_integer("fetch_on_miss.max_size", f.max_size)
    positive_integer("fetch_on_miss.max_header_line", f.max_header_line)
    positive_integer("fetch_on_miss.max_headers", f.max_headers)
    if type(f.inline) ~= "boolean" then
        fail("fetch_on_miss.inline", "a boolean", f.inline)
    end
    if type(f.responder_allow) ~= "table" then
        fail("fetch_on_miss.responder_allow", "a list of CIDR ranges and host names",
             f.responder_allow)
    end
    local ok, err = address_policy.new(f.responder_allow)
    if not ok then
        error("resty.staple: fetch_on_miss." .. err, 3)
    end
    if f.nameservers ~= nil then
        if type(f.nameservers) ~= "table" then
            fail("fetch_on_miss.nameservers", "a list of \"ip\" or \"ip:port\"", f.nameservers)
        end
        local servers, bad = resolve.nameservers(f.nameservers)
        if not servers then
            fail("fetch_on_miss.nameservers[" .. bad .. "]", "\"ip\", \"ip:port\" or"
                 .. " \"[ipv6]:port\"", f.nameservers[bad])
        end
        f.nameservers = servers
    end
    return f
end


-- Returns a new, complete configuration table; raises on invalid input.
function _M.validate(opts)
    if type(opts) ~= "table" then
        fail("the configure() argument", "a table", opts)
    end
    local given = {}
    for k, v in pairs(opts) do
        if k ~= "redis" and k ~= "fetch_on_miss" then
            given[k] = v
        end
    end
    local c = merge("config", DEFAULTS, given)
    if type(c.prefix) ~= "string" then
        fail("prefix", "a string", c.prefix)
    end
    if type(c.shared_dict) ~= "string" or not ngx_shared[c.shared_dict] then
        local name = tostring(c.shared_dict)
        error("resty.staple: shared_dict '" .. name .. "' is not declared; add"
              .. " `lua_shared_dict " .. name .. " 64m;` to the http block", 2)
    end
    positive_integer("lru_size", c.lru_size)
    positive_number("max_ttl", c.max_ttl)
    positive_number("miss_ttl", c.miss_ttl)
    positive_number("error_backoff", c.error_backoff)
    c.redis = validate_redis(opts.redis)
    c.fetch_on_miss = validate_fetch(opts.fetch_on_miss)
    return c
end


return _M
