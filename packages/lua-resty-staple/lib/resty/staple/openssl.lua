-- What lua-resty-core does not expose, read through LuaJIT FFI from the OpenSSL that nginx is
-- linked with: whether the client asked for a staple, the certificate set for this connection,
-- SHA-256, and an OCSP response's status and nextUpdate.
--
-- Everything here degrades instead of failing: when a symbol is missing (BoringSSL, a statically
-- linked OpenSSL without exported symbols), the `can_*` flags are false and the caller falls back
-- (SNI lookup instead of the connection's certificate; the Redis key's TTL instead of nextUpdate).

local ffi = require "ffi"
local base = require "resty.core.base"
local ngx_ssl = require "ngx.ssl"

local C = ffi.C
local ffi_new = ffi.new
local ffi_string = ffi.string
local ffi_cast = ffi.cast
local concat = table.concat
local tonumber = tonumber
local pcall = pcall
local ipairs = ipairs

local _M = {}

-- One cdef per declaration, with void * for every OpenSSL type: a declaration that another
-- library (lua-resty-openssl, a newer lua-resty-core) already made then fails alone, and the
-- existing one, pointer types and all, is used.
local DECLARATIONS = {
    "void *SSL_get_certificate(const void *ssl);",
    "long SSL_ctrl(void *ssl, int cmd, long larg, void *parg);",
    "const void *EVP_sha256(void);",
    "int X509_digest(const void *x509, const void *md, unsigned char *out, unsigned int *len);",
    "int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,"
        .. " const void *type, void *impl);",
    "int i2d_X509(void *x509, unsigned char **out);",
    "void CRYPTO_free(void *ptr, const char *file, int line);",
    "int OPENSSL_sk_num(const void *stack);",
    "void *OPENSSL_sk_value(const void *stack, int i);",
    "void *d2i_OCSP_RESPONSE(void **out, const unsigned char **in, long len);",
    "void OCSP_RESPONSE_free(void *resp);",
    "int OCSP_response_status(void *resp);",
    "void *OCSP_response_get1_basic(void *resp);",
    "void OCSP_BASICRESP_free(void *basic);",
    "int OCSP_resp_count(void *basic);",
    "void *OCSP_resp_get0(void *basic, int idx);",
    "int OCSP_single_get0_status(void *single, int *reason, void **revtime, void **thisupd,"
        .. " void **nextupd);",
    "int ASN1_TIME_diff(int *pday, int *psec, const void *from, const void *to);",
}
for _, declaration in ipairs(DECLARATIONS) do
    pcall(ffi.cdef, declaration)
end


local function has(...)
    for _, symbol in ipairs({ ... }) do
        -- Indexing ffi.C resolves the symbol in the process (nginx and the libraries it loaded).
        if not pcall(function() return C[symbol] end) then
            return false
        end
    end
    return true
end


-- The connection's SSL *. Recent lua-resty-core releases export get_req_ssl_pointer(); older ones
-- (Debian 12 ships 0.1.25) lack that Lua wrapper, but lua-nginx-module already exports the C
-- function with this one-argument signature (the later one with an error argument came after the
-- wrapper, which then hides it).
local get_ssl_pointer = ngx_ssl.get_req_ssl_pointer
if not get_ssl_pointer then
    pcall(ffi.cdef, "void *ngx_http_lua_ffi_get_req_ssl_pointer(void *r);")
    if has("ngx_http_lua_ffi_get_req_ssl_pointer") then
        local get_request = base.get_request
        get_ssl_pointer = function()
            local r = get_request()
            if not r then
                return nil, "no request found"
            end
            local ssl = C.ngx_http_lua_ffi_get_req_ssl_pointer(r)
            if ssl == nil then
                return nil, "not an SSL connection"
            end
            return ssl
        end
    end
end

-- Constants from OpenSSL's ssl.h and tls1.h (stable since 1.0.2).
local SSL_CTRL_GET_CHAIN_CERTS = 115
local SSL_CTRL_GET_TLSEXT_STATUS_REQ_TYPE = 127
local TLSEXT_STATUSTYPE_ocsp = 1
local OCSP_RESPONSE_STATUS_SUCCESSFUL = 0
local CERT_STATUS = { [0] = "good", [1] = "revoked", [2] = "unknown" }

_M.can_read_connection = get_ssl_pointer ~= nil
    and has("SSL_get_certificate", "SSL_ctrl", "X509_digest", "EVP_sha256")
_M.can_hash = has("EVP_Digest", "EVP_sha256")
_M.can_read_chain = _M.can_read_connection
    and has("i2d_X509", "CRYPTO_free", "OPENSSL_sk_num", "OPENSSL_sk_value")
_M.can_read_ocsp = has("d2i_OCSP_RESPONSE", "OCSP_RESPONSE_free", "OCSP_response_status",
    "OCSP_response_get1_basic", "OCSP_BASICRESP_free", "OCSP_resp_count", "OCSP_resp_get0",
    "OCSP_single_get0_status", "ASN1_TIME_diff")

-- Scratch buffers: filled and read with no yield in between, so one per worker is enough.
local digest = ffi_new("unsigned char[64]")
local digest_len = ffi_new("unsigned int[1]")
local der_out = ffi_new("unsigned char *[1]")
local stack_out = ffi_new("void *[1]")
local der_in = ffi_new("const unsigned char *[1]")
local next_update = ffi_new("void *[1]")
local days = ffi_new("int[1]")
local seconds = ffi_new("int[1]")


-- Returns the connection's SSL * or nil, err.
function _M.ssl_pointer()
    if not get_ssl_pointer then
        return nil, "cannot read the SSL connection with this lua-resty-core"
    end
    return get_ssl_pointer()
end


-- True when the client sent status_request (asked for a staple), false when it did not.
function _M.status_requested(ssl)
    return tonumber(C.SSL_ctrl(ssl, SSL_CTRL_GET_TLSEXT_STATUS_REQ_TYPE, 0, nil))
        == TLSEXT_STATUSTYPE_ocsp
end


-- SHA-256 (binary, 32 bytes) of the DER of the leaf certificate currently set for the
-- connection: the one from ssl_certificate, or the one ngx.ssl.set_der_cert() put there.
function _M.leaf_fingerprint(ssl)
    local x509 = C.SSL_get_certificate(ssl)
    if x509 == nil then
        return nil, "no certificate set for this connection"
    end
    if C.X509_digest(x509, C.EVP_sha256(), digest, digest_len) ~= 1 then
        return nil, "X509_digest failed"
    end
    return ffi_string(digest, digest_len[0])
end


local function x509_der(x509)
    -- NULL asks i2d to allocate; a non-NULL *out would be written to (and advanced).
    der_out[0] = nil
    local n = C.i2d_X509(x509, der_out)
    if n <= 0 then
        return nil
    end
    local der = ffi_string(der_out[0], n)
    C.CRYPTO_free(der_out[0], "resty/staple/openssl.lua", 0)
    return der
end


-- The connection's leaf and chain certificates as concatenated DER, the form ngx.ocsp takes.
function _M.chain_der(ssl)
    local x509 = C.SSL_get_certificate(ssl)
    if x509 == nil then
        return nil, "no certificate set for this connection"
    end
    local parts = { x509_der(x509) }
    if not parts[1] then
        return nil, "i2d_X509 failed"
    end
    stack_out[0] = nil
    if C.SSL_ctrl(ssl, SSL_CTRL_GET_CHAIN_CERTS, 0, stack_out) == 1 and stack_out[0] ~= nil then
        local stack = stack_out[0]
        for i = 0, C.OPENSSL_sk_num(stack) - 1 do
            parts[#parts + 1] = x509_der(C.OPENSSL_sk_value(stack, i))
        end
    end
    return concat(parts)
end


-- SHA-256 (binary) of a string.
function _M.sha256(data)
    if C.EVP_Digest(data, #data, digest, digest_len, C.EVP_sha256(), nil) ~= 1 then
        return nil, "EVP_Digest failed"
    end
    return ffi_string(digest, digest_len[0])
end


-- Reads an OCSPResponse: returns its first SingleResponse's status ("good" | "revoked" |
-- "unknown") and the seconds from now until its nextUpdate (nil when it has none; negative
-- when already past), or nil, err.
function _M.ocsp_validity(der)
    der_in[0] = ffi_cast("const unsigned char *", der)
    local resp = C.d2i_OCSP_RESPONSE(nil, der_in, #der)
    if resp == nil then
        return nil, "not a DER OCSPResponse"
    end
    local response_status = C.OCSP_response_status(resp)
    if response_status ~= OCSP_RESPONSE_STATUS_SUCCESSFUL then
        C.OCSP_RESPONSE_free(resp)
        return nil, "responseStatus " .. response_status
    end
    local basic = C.OCSP_response_get1_basic(resp)
    C.OCSP_RESPONSE_free(resp)
    if basic == nil then
        return nil, "not a BasicOCSPResponse"
    end
    if C.OCSP_resp_count(basic) < 1 then
        C.OCSP_BASICRESP_free(basic)
        return nil, "no SingleResponse"
    end
    next_update[0] = nil
    local status = C.OCSP_single_get0_status(C.OCSP_resp_get0(basic, 0), nil, nil, nil,
                                             next_update)
    local next_in
    -- nextUpdate belongs to `basic`: read it before freeing. A NULL `from` means now.
    if next_update[0] ~= nil and C.ASN1_TIME_diff(days, seconds, nil, next_update[0]) == 1 then
        next_in = days[0] * 86400 + seconds[0]
    end
    C.OCSP_BASICRESP_free(basic)
    local name = CERT_STATUS[status]
    if not name then
        return nil, "unreadable SingleResponse"
    end
    return name, next_in
end


return _M
