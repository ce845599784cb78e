-- Which certificate is this handshake serving? Answers with its fingerprint (binary SHA-256 of the
-- leaf's DER), the key of everything else. First match wins:
--   opts.fingerprint   hex SHA-256 given by the caller
--   opts.der_chain     the DER chain the caller set (leaf first): hashed
--   opts.server_name   looked up as <prefix>host:<name>, instead of the certificate
--   the connection's certificate (FFI): exact, even when a name maps to a renewed certificate
--   the SNI name, looked up as <prefix>host:<name>, then *.<parent>

local openssl = require "resty.staple.openssl"
local fingerprint = require "resty.staple.fingerprint"
local cache_kinds = require("resty.staple.cache").KINDS

local ngx_ssl = require "ngx.ssl"
local log = ngx.log
local WARN = ngx.WARN
local lower = string.lower
local gsub = string.gsub

local _M = {}

local HOST = cache_kinds.HOST
local MISS = cache_kinds.MISS

-- A name's fingerprint stays usable this long while Redis cannot be reached.
local HOST_KEEP = 86400


-- The fingerprint the contract maps `name` to, or nil, or nil, err. `ctx` = { conf, cache, store }.
local function by_name(ctx, name, now)
    name = lower(name)
    local key = "h:" .. name
    local cache, conf = ctx.cache, ctx.conf
    local value, kind, _, fresh = cache:get(key, now)
    if value and fresh then
        return kind == HOST and value or nil
    end
    local fp_hex, err = ctx.store:host(name)
    if err then
        if value and kind == HOST then
            return value
        end
        return nil, "redis: " .. err
    end
    local fp = fp_hex and fingerprint.from_hex(fp_hex)
    if not fp then
        if fp_hex then
            log(WARN, "[staple] ignoring ", conf.prefix, "host:", name, ": not a fingerprint")
        end
        cache:set(key, MISS, "", conf.miss_ttl, conf.miss_ttl, now)
        return nil
    end
    cache:set(key, HOST, fp, conf.max_ttl, HOST_KEEP, now)
    return fp
end


-- Returns the leaf's fingerprint, or nil, reason ("miss" | "no_certificate"), or nil, nil, err.
-- `ssl` is the connection's SSL * when readable, else nil.
function _M.find(ctx, opts, ssl, now)
    if opts then
        if opts.fingerprint then
            local fp = fingerprint.from_hex(lower((gsub(opts.fingerprint, ":", ""))))
            if not fp then
                return nil, nil, "opts.fingerprint is not a hex SHA-256 fingerprint"
            end
            return fp
        end
        if opts.der_chain then
            local leaf, err = fingerprint.leaf_of(opts.der_chain)
            if not leaf then
                return nil, nil, "opts.der_chain: " .. err
            end
            if not openssl.can_hash then
                return nil, nil, "cannot hash opts.der_chain: EVP_Digest is not available"
            end
            return openssl.sha256(leaf)
        end
    end

    local name = opts and opts.server_name
    if not name and ssl then
        local fp = openssl.leaf_fingerprint(ssl)
        if fp then
            return fp
        end
    end
    name = name or ngx_ssl.server_name()
    if not name then
        return nil, "no_certificate"
    end
    local fp, err = by_name(ctx, name, now)
    if fp then
        return fp
    end
    if err then
        return nil, nil, err
    end
    return nil, "miss"
end


return _M
