-- fetch_on_miss: when Redis has no staple, ask the certificate's OCSP responder directly (what
-- nginx's own ssl_stapling does), validate the answer and keep it in the fast cache. Redis is
-- never written: staplewarm owns it.
--
-- Bounded so a cold cache cannot stampede the CA: one fetch per certificate per retry_after
-- seconds and at most `rate` fetches per second, across all workers (shared dict counters).
-- By default the fetch runs in a timer and the handshake goes on without a staple; with
-- inline = true the handshake waits, at most timeout_ms.
--
-- The responder URL is the customer's (a certificate's AIA), so before anything is sent: the URL
-- must pass url.lua's strict grammar, and the address connected to must pass the address policy
-- (resolve.lua, address_policy.lua). The answer must pass ngx.ocsp's validation and verify.lua's
-- (signer authorized by the issuer; the SingleResponse for the requested CertID is read).

local ocsp = require "ngx.ocsp"
local http = require "resty.staple.http"
local url_mod = require "resty.staple.url"
local ip = require "resty.staple.ip"
local resolve = require "resty.staple.resolve"
local address_policy = require "resty.staple.address_policy"
local verify = require "resty.staple.verify"
local fingerprint = require "resty.staple.fingerprint"
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
local sub = string.sub

local _M = {}
local mt = { __index = _M }

local FETCHED = cache_kinds.FETCHED


-- `conf` is the validated configuration (config.lua); `dns` = { client, name, nameservers }
-- from the caller (resolve.load_client() and the configured or system nameservers).
function _M.new(conf, cache, dns)
    local f = conf.fetch_on_miss
    return setmetatable({
        conf = f,
        max_ttl = conf.max_ttl,
        cache = cache,
        dict = ngx_shared[conf.shared_dict],
        policy = address_policy.new(f.responder_allow),
        dns = dns,
    }, mt)
end


-- The issuer's DER: the certificate after the leaf in `chain`, or nil.
local function issuer_of(chain)
    local leaf = fingerprint.leaf_of(chain)
    return leaf and fingerprint.leaf_of(sub(chain, #leaf + 1)) or nil
end


-- Fetches and validates a staple for the leaf of `chain` (leaf + issuer, DER).
-- Returns the DER and the seconds it may be used (until nextUpdate), or nil, err.
local function fetch(self, chain)
    local conf = self.conf
    local url, err = ocsp.get_ocsp_responder_from_der_chain(chain, url_mod.MAX_LENGTH + 1)
    if not url then
        return nil, err or "the certificate has no OCSP responder URL"
    end
    local shown = url_mod.printable(url)
    if err then
        return nil, "refused responder URL " .. shown .. ": longer than "
            .. url_mod.MAX_LENGTH .. " bytes"
    end
    local target
    target, err = url_mod.parse(url)
    if not target then
        return nil, "refused responder URL " .. shown .. ": " .. err
    end
    local issuer = issuer_of(chain)
    if not issuer then
        return nil, "no issuer certificate after the leaf in the chain"
    end
    local request
    request, err = ocsp.create_ocsp_request(chain)
    if not request then
        return nil, "cannot build the OCSP request: " .. tostring(err)
    end

    local deadline = http.now_ms() + conf.timeout_ms
    local address
    address, err = resolve.address(target, self.policy, self.dns, function()
        return deadline - http.now_ms()
    end)
    if not address then
        return nil, shown .. ": " .. err
    end
    local der
    der, err = http.post(target, ip.to_text(address), request, conf, deadline)
    if not der then
        return nil, shown .. ": " .. err
    end
    -- Signature, CertID, status good and time validity (300 s skew), by lua-nginx-module.
    local ok
    ok, err = ocsp.validate_ocsp_response(der, chain)
    if not ok then
        return nil, shown .. ": invalid response: " .. tostring(err)
    end
    -- The signer's authority and the requested CertID's own entry (see verify.lua).
    local status, next_in = verify.check(der, request, issuer)
    if not status then
        return nil, shown .. ": invalid response: " .. next_in
    end
    if status ~= "good" then
        return nil, shown .. ": certificate status " .. status
    end
    if not next_in or next_in <= 0 then
        return nil, shown .. ": response has no future nextUpdate"
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
    local der, next_in = fetch(self, chain)
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
    local der, next_in = fetch(self, chain)
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
