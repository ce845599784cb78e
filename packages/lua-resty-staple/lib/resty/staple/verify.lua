-- What fetch_on_miss checks in a responder's answer beyond ngx.ocsp.validate_ocsp_response,
-- through LuaJIT FFI on the OpenSSL nginx is linked with.
--
-- validate_ocsp_response (lua-nginx-module, ngx_http_lua_ffi_ssl_validate_ocsp_response) already
-- finds the SingleResponse by CertID: it builds the leaf's CertID with OCSP_cert_to_id(NULL,
-- leaf, issuer) (SHA-1, as create_ocsp_request does) and looks it up with OCSP_resp_find_status,
-- which compares the hash algorithm, issuer name hash, issuer key hash and serial; it then wants
-- that entry "good" and within OCSP_check_validity(thisUpdate, nextUpdate, 300 s skew). But:
--   - it returns no fields, and the cache lifetime needs that entry's nextUpdate (not the first
--     entry's: a response may carry other certificates' answers first);
--   - it calls OCSP_basic_verify(..., OCSP_NOVERIFY), which checks the signature with whatever
--     certificate the response names as its signer, embedded in the response itself, and skips
--     the check that this signer is the issuer or a responder the issuer delegated to. A response
--     signed by any self-made key would pass.
-- So check() verifies the signer against the issuer (OpenSSL's own rules: the issuer itself, or
-- a certificate it issued with EKU OCSPSigning) and reads the status and nextUpdate of the
-- SingleResponse whose CertID is the one in the request that was sent.

local ffi = require "ffi"

local C = ffi.C
local ffi_new = ffi.new
local ffi_cast = ffi.cast
local pcall = pcall
local ipairs = ipairs

local _M = {}

-- void * for every OpenSSL type, one cdef each (see openssl.lua for why).
local DECLARATIONS = {
    "void *d2i_OCSP_RESPONSE(void **out, const unsigned char **in, long len);",
    "void OCSP_RESPONSE_free(void *resp);",
    "int OCSP_response_status(void *resp);",
    "void *OCSP_response_get1_basic(void *resp);",
    "void OCSP_BASICRESP_free(void *basic);",
    "void *d2i_OCSP_REQUEST(void **out, const unsigned char **in, long len);",
    "void OCSP_REQUEST_free(void *req);",
    "int OCSP_request_onereq_count(void *req);",
    "void *OCSP_request_onereq_get0(void *req, int i);",
    "void *OCSP_onereq_get0_id(void *one);",
    "int OCSP_resp_find_status(void *basic, void *id, int *status, int *reason, void **revtime,"
        .. " void **thisupd, void **nextupd);",
    "int OCSP_basic_verify(void *basic, void *certs, void *store, unsigned long flags);",
    "void *d2i_X509(void **out, const unsigned char **in, long len);",
    "void X509_free(void *x509);",
    "void *X509_STORE_new(void);",
    "void X509_STORE_free(void *store);",
    "int X509_STORE_add_cert(void *store, void *x509);",
    "int X509_STORE_set_flags(void *store, unsigned long flags);",
    "void *OPENSSL_sk_new_null(void);",
    "int OPENSSL_sk_push(void *stack, const void *data);",
    "void OPENSSL_sk_free(void *stack);",
    "int ASN1_TIME_diff(int *pday, int *psec, const void *from, const void *to);",
    "void ERR_clear_error(void);",
}
for _, declaration in ipairs(DECLARATIONS) do
    pcall(ffi.cdef, declaration)
end

local function has_all()
    for _, symbol in ipairs({ "OCSP_basic_verify", "OCSP_resp_find_status", "d2i_OCSP_REQUEST",
            "OCSP_request_onereq_get0", "OCSP_onereq_get0_id", "X509_STORE_new",
            "X509_STORE_set_flags", "OPENSSL_sk_new_null", "d2i_X509", "ERR_clear_error" }) do
        if not pcall(function() return C[symbol] end) then
            return false
        end
    end
    return true
end
_M.available = has_all()

-- From OpenSSL's ocsp.h and x509_vfy.h (stable since 1.0.2).
local OCSP_RESPONSE_STATUS_SUCCESSFUL = 0
local OCSP_TRUSTOTHER = 0x200        -- a signer found among `certs` (the issuer) is trusted as is
local X509_V_FLAG_PARTIAL_CHAIN = 0x80000   -- the issuer is the trust anchor, not a root
local CERT_STATUS = { [0] = "good", [1] = "revoked", [2] = "unknown" }

local der_in = ffi_new("const unsigned char *[1]")
local status_out = ffi_new("int[1]")
local this_update = ffi_new("void *[1]")
local next_update = ffi_new("void *[1]")
local days = ffi_new("int[1]")
local seconds = ffi_new("int[1]")


local function d2i(fn, der)
    der_in[0] = ffi_cast("const unsigned char *", der)
    return fn(nil, der_in, #der)
end


-- Frees what check() allocated (any may be nil) and clears OpenSSL's error queue, which
-- nginx's own SSL calls on this worker would otherwise find.
local function release(r)
    if r.request ~= nil then C.OCSP_REQUEST_free(r.request) end
    if r.basic ~= nil then C.OCSP_BASICRESP_free(r.basic) end
    if r.response ~= nil then C.OCSP_RESPONSE_free(r.response) end
    if r.certs ~= nil then C.OPENSSL_sk_free(r.certs) end
    if r.store ~= nil then C.X509_STORE_free(r.store) end
    if r.issuer ~= nil then C.X509_free(r.issuer) end
    C.ERR_clear_error()
end


local function run(r, response_der, request_der, issuer_der)
    r.response = d2i(C.d2i_OCSP_RESPONSE, response_der)
    if r.response == nil then
        return nil, "not a DER OCSPResponse"
    end
    if C.OCSP_response_status(r.response) ~= OCSP_RESPONSE_STATUS_SUCCESSFUL then
        return nil, "responseStatus not successful"
    end
    r.basic = C.OCSP_response_get1_basic(r.response)
    if r.basic == nil then
        return nil, "not a BasicOCSPResponse"
    end

    r.issuer = d2i(C.d2i_X509, issuer_der)
    if r.issuer == nil then
        return nil, "unreadable issuer certificate"
    end
    r.store = C.X509_STORE_new()
    r.certs = C.OPENSSL_sk_new_null()
    if r.store == nil or r.certs == nil
        or C.X509_STORE_add_cert(r.store, r.issuer) ~= 1
        or C.X509_STORE_set_flags(r.store, X509_V_FLAG_PARTIAL_CHAIN) ~= 1
        or C.OPENSSL_sk_push(r.certs, r.issuer) < 1 then
        return nil, "out of memory"
    end
    if C.OCSP_basic_verify(r.basic, r.certs, r.store, OCSP_TRUSTOTHER) ~= 1 then
        return nil, "not signed by the issuer or by a responder it authorized (EKU OCSPSigning)"
    end

    r.request = d2i(C.d2i_OCSP_REQUEST, request_der)
    if r.request == nil or C.OCSP_request_onereq_count(r.request) ~= 1 then
        return nil, "unreadable OCSP request"
    end
    local id = C.OCSP_onereq_get0_id(C.OCSP_request_onereq_get0(r.request, 0))
    this_update[0], next_update[0] = nil, nil
    if C.OCSP_resp_find_status(r.basic, id, status_out, nil, nil, this_update,
                               next_update) ~= 1 then
        return nil, "no SingleResponse for this certificate's CertID"
    end
    local next_in
    -- nextUpdate belongs to r.basic: read it before release(). A NULL `from` means now.
    if next_update[0] ~= nil and C.ASN1_TIME_diff(days, seconds, nil, next_update[0]) == 1 then
        next_in = days[0] * 86400 + seconds[0]
    end
    return CERT_STATUS[status_out[0]] or "unknown", next_in
end


-- Checks `response_der` (a DER OCSPResponse) against the DER OCSPRequest that was sent and the
-- issuer's DER certificate. Returns the status ("good" | "revoked" | "unknown") of the
-- SingleResponse for the requested CertID and the seconds from now to its nextUpdate (nil when
-- absent; negative when past), or nil, err.
function _M.check(response_der, request_der, issuer_der)
    local r = {}
    local ok, status, next_in = pcall(run, r, response_der, request_der, issuer_der)
    release(r)
    if not ok then
        return nil, "OCSP check failed: " .. status
    end
    return status, next_in
end


return _M
