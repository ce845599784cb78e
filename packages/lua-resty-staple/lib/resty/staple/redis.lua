-- Reads the Redis contract v1 (written by staplewarm):
--   <prefix>staple:<fp>  raw DER OCSPResponse; the key expires at the staple's nextUpdate
--   <prefix>host:<name>  <fp> for each DNS name of the certificate (wildcards as *.example.com)
-- <fp> is the lowercase hex SHA-256 of the leaf certificate's DER.
--
-- Each lookup is one pipelined round trip on a pooled connection, bounded as a whole by
-- redis.timeout_ms. After a connection error Redis is left alone for error_backoff seconds (all
-- workers, through the shared dict), so a dead or black-holed Redis costs one timeout per
-- backoff period instead of one per handshake.

local ngx_null = ngx.null
local ngx_now = ngx.now
local update_time = ngx.update_time
local log = ngx.log
local WARN = ngx.WARN
local ngx_shared = ngx.shared
local type = type
local tostring = tostring
local pcall = pcall
local require = require
local ipairs = ipairs
local setmetatable = setmetatable
local match = string.match
local concat = table.concat

local _M = {}
local mt = { __index = _M }

-- Shared dict key holding the last connection error while Redis is being left alone.
local BACKOFF_KEY = "!redis_backoff"

-- OpenResty ships lua-resty-redis as resty.redis; Debian packages the same client as nginx.redis.
local CLIENT_MODULES = { "resty.redis", "nginx.redis" }


local function load_client()
    local errors = {}
    for _, name in ipairs(CLIENT_MODULES) do
        local ok, client = pcall(require, name)
        if ok and type(client) == "table" and client.new then
            return client, name
        end
        errors[#errors + 1] = name
    end
    return nil, "no Redis client found (tried " .. concat(errors, ", ") .. ")"
end


local function now_ms()
    -- ngx.now() is cached per event loop iteration; the deadline needs the real clock.
    update_time()
    return ngx_now() * 1000
end


function _M.new(conf)
    local client, name_or_err = load_client()
    if not client then
        return nil, name_or_err
    end
    return setmetatable({
        client = client,
        client_name = name_or_err,
        conf = conf.redis,
        prefix = conf.prefix,
        dict = ngx_shared[conf.shared_dict],
        error_backoff = conf.error_backoff,
    }, mt)
end


-- Closes `red`, starts the backoff and returns nil, err.
local function give_up(self, red, err)
    red:close()
    self.dict:set(BACKOFF_KEY, err, self.error_backoff)
    log(WARN, "[staple] redis ", self.conf.host, ":", self.conf.port, " unavailable (", err,
        "); not asking it for ", self.error_backoff, " s")
    return nil, err
end


-- Sets the timeout to what is left of the deadline; false when nothing is left.
local function arm(red, deadline)
    local left = deadline - now_ms()
    if left < 1 then
        return false
    end
    red:set_timeout(left)
    return true
end


-- lua-nginx-module's answer to a connect() beyond pool_size + backlog.
local POOL_FULL = "too many waiting connect operations"


local function connect(self, deadline)
    local c = self.conf
    local red = self.client:new()
    red:set_timeout(c.timeout_ms)
    -- pool_size caps this worker's connections (busy and idle) to Redis; a lookup that finds
    -- them all busy waits in the backlog (at most timeout_ms, for one to come back) and beyond
    -- the backlog fails at once. Without them a cold cache opens one connection per handshake
    -- in flight.
    local ok, err
    if c.unix then
        ok, err = red:connect(c.host, c.connect_opts)
    else
        ok, err = red:connect(c.host, c.port, c.connect_opts)
    end
    if not ok then
        if err == POOL_FULL then
            -- Busy, not down: no backoff, this handshake just goes without a staple.
            red:close()
            return nil, "connection pool full (" .. c.pool_size .. " connections busy, "
                .. c.backlog .. " lookups waiting)"
        end
        return give_up(self, red, "connect: " .. tostring(err))
    end
    -- AUTH and SELECT once per connection; pooled connections already did it.
    if red:get_reused_times() == 0 then
        if c.password then
            if not arm(red, deadline) then
                return give_up(self, red, "timeout")
            end
            if c.username then
                ok, err = red:auth(c.username, c.password)
            else
                ok, err = red:auth(c.password)
            end
            if not ok then
                return give_up(self, red, "auth: " .. tostring(err))
            end
        end
        if c.db ~= 0 then
            if not arm(red, deadline) then
                return give_up(self, red, "timeout")
            end
            ok, err = red:select(c.db)
            if not ok then
                return give_up(self, red, "select: " .. tostring(err))
            end
        end
    end
    return red
end


-- Runs the commands `queue(red)` adds as one pipeline. Returns the replies (ngx.null for a
-- missing key) or nil, err.
local function pipeline(self, queue)
    local backing_off = self.dict:get(BACKOFF_KEY)
    if backing_off then
        return nil, "unavailable, backing off after: " .. backing_off
    end
    local deadline = now_ms() + self.conf.timeout_ms
    local red, err = connect(self, deadline)
    if not red then
        return nil, err
    end
    if not arm(red, deadline) then
        return give_up(self, red, "timeout")
    end
    red:init_pipeline()
    queue(red)
    local replies
    replies, err = red:commit_pipeline()
    if not replies then
        return give_up(self, red, tostring(err))
    end
    red:set_keepalive(self.conf.keepalive_ms, self.conf.pool_size)
    for _, reply in ipairs(replies) do
        -- A command error (WRONGTYPE...) is a contract problem, not an outage: no backoff.
        if type(reply) == "table" and reply[1] == false then
            return nil, "command failed: " .. tostring(reply[2])
        end
    end
    return replies
end


-- Returns the staple (DER string or nil when there is none) and the key's PTTL in ms
-- (-1: the key has no expiry), or nil, nil, err.
function _M.staple(self, fp_hex)
    local key = self.prefix .. "staple:" .. fp_hex
    local replies, err = pipeline(self, function(red)
        red:get(key)
        red:pttl(key)
    end)
    if not replies then
        return nil, nil, err
    end
    local der, pttl = replies[1], replies[2]
    if der == ngx_null or type(der) ~= "string" then
        return nil
    end
    return der, pttl
end


-- The wildcard name that covers `name` (a.example.com -> *.example.com), or nil.
local function wildcard_of(name)
    local parent = match(name, "^[^.]+%.(.+%..+)$")
    return parent and "*." .. parent or nil
end
_M.wildcard_of = wildcard_of


-- Returns the <fp> (hex) the contract maps `name` to, the exact name first, then its wildcard
-- form; nil when neither exists; or nil, err.
function _M.host(self, name)
    local exact = self.prefix .. "host:" .. name
    local wildcard = wildcard_of(name)
    local replies, err = pipeline(self, function(red)
        red:get(exact)
        if wildcard then
            red:get(self.prefix .. "host:" .. wildcard)
        end
    end)
    if not replies then
        return nil, err
    end
    for _, fp in ipairs(replies) do
        if type(fp) == "string" then
            return fp
        end
    end
    return nil
end


return _M
