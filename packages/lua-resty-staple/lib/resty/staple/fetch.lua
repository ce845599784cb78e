-- fetch_on_miss: when Redis has no staple, ask the certificate's OCSP responder directly (what
-- nginx's own ssl_stapling does), validate the answer with ngx.ocsp and keep it in the fast
-- cache. Redis is never written: staplewarm owns it.
--
-- Bounded so a cold cache cannot stampede the CA: one fetch per certificate per retry_after
-- seconds and at most `rate` fetches per second, across all workers (shared dict counters).
-- By default the fetch runs in a timer and the handshake goes on without a staple; with
-- inline = true the handshake waits, at most timeout_ms.

local ocsp = require "ngx.ocsp"
local http = require "resty.staple.http"
local openssl = require "resty.staple.openssl"
local cache_kinds = require("resty.staple.cache").KINDS

local ngx_now = ngx.now
local timer_at = ngx.timer.at
local log = ngx.log
local INFO = ngx.INFO
local WARN = ngx.WARN
local ngx_shared = ngx.shared
local floor = math.floor
local min = math.min
local tostring = tostring
local setmetatable = setmetatable

local _M = {}
local mt = { __index = _M }

local FETCHED = cache_kinds.FETCHED


function _M.new(conf, cache)
    return setmetatable({
        conf = conf.fetch_on_miss,
        max_ttl = conf.max_ttl,
        cache = cache,
        dict = ngx_shared[conf.shared_dict],
    }, mt)
end


-- Fetches and validates a staple for the leaf of `chain` (leaf + issuer, DER).
-- Returns the DER and the seconds it may be used (until nextUpdate), or nil, err.
local function fetch(conf, chain)
    local url, err = ocsp.get_ocsp_responder_from_der_chain(chain)
    if not url then
        return nil, err or "the certificate has no OCSP responder URL"
    end
    local request
    request, err = ocsp.create_ocsp_request(chain)
    if not request then
        return nil, "cannot build the OCSP request: " .. tostring(err)
    end
    local der
    der, err = http.post(url, request, conf)
    if not der then
        return nil, url .. ": " .. err
    end
    -- Signature, CertID and time validity; a revoked status is refused here too.
    local ok
    ok, err = ocsp.validate_ocsp_response(der, chain)
    if not ok then
        return nil, url .. ": invalid response: " .. tostring(err)
    end
    local status, next_in = openssl.ocsp_validity(der)
    if not status then
        return nil, url .. ": " .. next_in
    end
    if not next_in or next_in <= 0 then
        return nil, url .. ": response has no future nextUpdate"
    end
    return der, next_in
end


local function keep(self, key, der, next_in)
    self.cache:set(key, FETCHED, der, min(self.max_ttl, next_in), next_in, ngx_now())
end


local function run_in_timer(premature, self, key, fp_hex, chain)
    if premature then
        return
    end
    local der, next_in = fetch(self.conf, chain)
    if not der then
        log(WARN, "[staple] fetch_on_miss failed for ", fp_hex, ": ", next_in)
        return
    end
    keep(self, key, der, next_in)
    log(INFO, "[staple] fetched a staple from the responder for ", fp_hex,
        ", valid for ", next_in, " s")
end


-- Claims the right to fetch this certificate now, or returns nil, why not.
local function claim(self, fp_bin)
    local lock = "!fetch:" .. fp_bin
    local ok, err = self.dict:add(lock, true, self.conf.retry_after)
    if not ok then
        return nil, err == "exists" and "fetched recently" or err
    end
    local count = self.dict:incr("!fetch_rate:" .. floor(ngx_now()), 1, 0, 2)
    if count and count > self.conf.rate then
        -- Over budget this second: let a later handshake try again.
        self.dict:delete(lock)
        return nil, "rate limited"
    end
    return true
end


-- Called on a Redis miss. Inline mode returns the fetched DER; background mode starts a timer
-- and returns nil, "scheduled". Otherwise nil, why not.
function _M.on_miss(self, key, fp_bin, fp_hex, chain)
    local ok, err = claim(self, fp_bin)
    if not ok then
        return nil, err
    end
    if not self.conf.inline then
        ok, err = timer_at(0, run_in_timer, self, key, fp_hex, chain)
        if not ok then
            return nil, "cannot start a timer: " .. tostring(err)
        end
        return nil, "scheduled"
    end
    local der, next_in = fetch(self.conf, chain)
    if not der then
        log(WARN, "[staple] fetch_on_miss failed for ", fp_hex, ": ", next_in)
        return nil, next_in
    end
    keep(self, key, der, next_in)
    log(INFO, "[staple] fetched a staple from the responder for ", fp_hex,
        ", valid for ", next_in, " s")
    return der
end


return _M
