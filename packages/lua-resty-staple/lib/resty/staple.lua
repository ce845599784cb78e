-- resty.staple: OCSP stapling from the staplewarm Redis cache, for ssl_certificate_by_lua*.
--
--   init_by_lua_block { require("resty.staple").configure{ redis = { host = "127.0.0.1" } } }
--   ssl_certificate_by_lua_block { local stapled, what = require("resty.staple").staple() }
--
-- Lookup: per-worker LRU -> lua_shared_dict -> Redis (-> the responder, with fetch_on_miss).
-- The handshake never fails because of this module: every error ends as "no staple".

local config = require "resty.staple.config"
local cache_mod = require "resty.staple.cache"
local redis = require "resty.staple.redis"
local openssl = require "resty.staple.openssl"
local fingerprint = require "resty.staple.fingerprint"
local leaf = require "resty.staple.leaf"
local fetch = require "resty.staple.fetch"
local resolve = require "resty.staple.resolve"
local verify = require "resty.staple.verify"
local ngx_ocsp = require "ngx.ocsp"

local ngx_now = ngx.now
local log = ngx.log
local DEBUG = ngx.DEBUG
local INFO = ngx.INFO
local WARN = ngx.WARN
local ERR = ngx.ERR
local min = math.min
local type = type
local tostring = tostring
local pcall = pcall
local error = error
local ipairs = ipairs
local concat = table.concat

local _M = { _VERSION = "0.1.0" }

local KINDS = cache_mod.KINDS

-- Set by configure() (in init_by_lua, so every worker inherits them): { conf, cache, store }.
local ctx
local fetcher


-- The DNS client and nameservers fetch_on_miss resolves responder host names with.
local function dns_for(fetch_conf)
    local client, name = resolve.load_client()
    return {
        client = client,
        name = name,
        nameservers = fetch_conf.nameservers or resolve.system_nameservers(),
    }
end


local function describe_fetch(fetch_conf, dns)
    if not fetch_conf then
        return "off"
    end
    local allow = fetch_conf.responder_allow
    local servers = {}
    for i, server in ipairs(dns.nameservers) do
        servers[i] = server[1] .. ":" .. server[2]
    end
    return "on (responders: default address policy"
        .. (#allow > 0 and " + allow " .. concat(allow, ", ") or "")
        .. "; host names via " .. (dns.client and dns.name .. " at "
            .. (#servers > 0 and concat(servers, ", ") or "NO nameservers")
            or "NOTHING: no DNS client, IP-literal URLs only")
        .. ")"
end


-- Validates `opts` (see config.lua for every option and its default) and prepares the caches.
-- Raises on a bad configuration: call it from init_by_lua*, where that stops nginx from starting.
function _M.configure(opts)
    local conf = config.validate(opts)
    local cache, err = cache_mod.new(conf.shared_dict, conf.lru_size)
    if not cache then
        error("resty.staple: " .. err, 2)
    end
    local store
    store, err = redis.new(conf)
    if not store then
        error("resty.staple: " .. err, 2)
    end
    local dns
    if conf.fetch_on_miss then
        if not (openssl.can_read_ocsp and verify.available) then
            error("resty.staple: fetch_on_miss needs OpenSSL's OCSP functions, which this nginx"
                  .. " does not export", 2)
        end
        dns = dns_for(conf.fetch_on_miss)
    end
    ctx = { conf = conf, cache = cache, store = store }
    fetcher = conf.fetch_on_miss and fetch.new(conf, cache, dns) or nil
    log(INFO, "[staple] configured resty.staple ", _M._VERSION, ": redis ", conf.redis.host, ":",
        conf.redis.port, " db ", conf.redis.db, " via ", store.client_name, " (pool ",
        conf.redis.pool_size, " + backlog ", conf.redis.backlog, " per worker), prefix '",
        conf.prefix, "', connection certificate ", openssl.can_read_connection and "readable"
        or "NOT readable (SNI lookups only)", ", nextUpdate check ",
        openssl.can_read_ocsp and "on" or "off (key TTL only)",
        ", fetch_on_miss ", describe_fetch(conf.fetch_on_miss, dns))
end


-- Seconds a staple read from Redis may be used: until its key expires (the contract sets that
-- to nextUpdate) and never past the response's own nextUpdate. nil, why when not usable.
local function usable_for(der, pttl)
    local keep = type(pttl) == "number" and pttl > 0 and pttl / 1000 or nil
    if openssl.can_read_ocsp then
        local status, next_in = openssl.ocsp_validity(der)
        if not status then
            return nil, next_in
        end
        if status == "unknown" then
            return nil, "certificate status unknown"
        end
        if next_in then
            keep = keep and min(keep, next_in) or next_in
        end
    end
    if not keep then
        return nil, "the key has no TTL and the response no readable nextUpdate"
    end
    if keep <= 0 then
        return nil, "past its nextUpdate"
    end
    return keep
end


-- The DER chain fetch_on_miss needs (leaf + issuer), or nil.
local function chain_for_fetch(opts, ssl)
    if opts and opts.der_chain then
        return opts.der_chain
    end
    if ssl and openssl.can_read_chain then
        return (openssl.chain_der(ssl))
    end
    return nil
end


-- Returns der, source ("lru" | "shm" | "redis" | "stale" | "fetch"), or nil, "miss", or
-- nil, nil, err.
local function staple_for(fp, now, opts, ssl)
    local conf, cache = ctx.conf, ctx.cache
    local key = "s:" .. fp
    local value, kind, level, fresh, kept_for = cache:get(key, now)
    if value and fresh then
        if kind == KINDS.MISS then
            return nil, "miss"
        end
        return value, level
    end

    local fp_hex = fingerprint.to_hex(fp)
    local der, pttl, err = ctx.store:staple(fp_hex)
    if err then
        if value and kind ~= KINDS.MISS then
            -- Still before its expiry (the dict would have dropped it): better than no staple.
            return value, "stale"
        end
        return nil, nil, "redis: " .. err
    end
    if der then
        local usable, why = usable_for(der, pttl)
        if usable then
            cache:set(key, KINDS.STAPLE, der, conf.max_ttl, usable, now)
            return der, "redis"
        end
        log(WARN, "[staple] not stapling ", conf.prefix, "staple:", fp_hex, ": ", why)
    end

    if value and kind == KINDS.FETCHED and kept_for and kept_for > 0 then
        -- Redis still has nothing; the staple fetched earlier is valid until its nextUpdate.
        cache:set(key, KINDS.FETCHED, value, conf.max_ttl, kept_for, now)
        return value, "fetch"
    end
    cache:set(key, KINDS.MISS, "", conf.miss_ttl, conf.miss_ttl, now)
    log(INFO, "[staple] no staple in redis for ", fp_hex)

    if fetcher then
        local chain = chain_for_fetch(opts, ssl)
        if chain then
            local fetched, why = fetcher:on_miss(key, fp, fp_hex, chain)
            if fetched then
                return fetched, "fetch"
            end
            log(DEBUG, "[staple] fetch_on_miss for ", fp_hex, ": ", why)
        end
    end
    return nil, "miss"
end


local function run(opts)
    if not ctx then
        return nil, "not configured: call configure() in init_by_lua"
    end
    local now = ngx_now()
    local ssl
    if openssl.can_read_connection then
        ssl = openssl.ssl_pointer()
        -- Most non-browser clients do not ask for a staple: skip the lookup entirely.
        if ssl and not openssl.status_requested(ssl) then
            return false, "not_requested"
        end
    end

    local fp, reason, err = leaf.find(ctx, opts, ssl, now)
    if not fp then
        if err then
            return nil, err
        end
        return false, reason
    end
    local der, source
    der, source, err = staple_for(fp, now, opts, ssl)
    if not der then
        if err then
            return nil, err
        end
        return false, source
    end

    local ok, note = ngx_ocsp.set_ocsp_status_resp(der)
    if not ok then
        return nil, "set_ocsp_status_resp: " .. tostring(note)
    end
    if note == "no status req" then
        return false, "not_requested"
    end
    return true, source
end


-- Finds the staple for this handshake and sets it. Call from ssl_certificate_by_lua*, after any
-- ngx.ssl.set_der_cert(). `opts` (optional) names the leaf when the caller knows it best:
--   { fingerprint = "<hex sha-256 of the leaf DER>" } | { der_chain = "<leaf..chain DER>" }
--   | { server_name = "<name to look up as <prefix>host:<name>>" }
-- Without opts: the certificate set for the connection, else the SNI name (see leaf.lua).
-- Returns true, source ("lru" | "shm" | "redis" | "stale" | "fetch") when a staple was set;
-- false, reason ("miss" | "not_requested" | "no_certificate") when there is none to set;
-- nil, err on an error. The handshake goes on in every case.
function _M.staple(opts)
    local ok, stapled, what = pcall(run, opts)
    if not ok then
        -- A bug here must cost the staple, never the handshake.
        log(ERR, "[staple] ", stapled)
        return nil, "internal error: " .. tostring(stapled)
    end
    log(DEBUG, "[staple] ", stapled and "stapled from " or "no staple: ", what)
    return stapled, what
end


return _M
