-- Responder URLs, read strictly before anything is built from them. The URL comes from the
-- certificate's AIA extension, which a customer may have written: a CR/LF copied into the request
-- line would add headers or a second request, and a lenient host parser could connect somewhere
-- the address policy never saw. So the whole URL must match a small RFC 3986 grammar:
--   http://host[:port][/path][?query]
-- host: a strict dotted quad, a bracketed IPv6 address, or a DNS name (address_policy.lua);
-- port: 1-65535; path and query: unreserved, sub-delims, ":", "@", "/", "?" and valid
-- %-escapes only. No user info, no fragment, printable ASCII only, at most MAX_LENGTH bytes.
-- Only http:// is fetched: responders serve OCSP over plain HTTP (RFC 6960 appendix A; the
-- response is signed), and nginx's own ssl_stapling_responder is http-only too. An https:// or
-- any other scheme is refused with its name in the error.

local ip = require "resty.staple.ip"
local address_policy = require "resty.staple.address_policy"

local byte = string.byte
local sub = string.sub
local find = string.find
local match = string.match
local lower = string.lower
local format = string.format
local gsub = string.gsub
local tonumber = tonumber

local _M = {}

-- Real responder URLs are short (RFC 5019 keeps a whole GET under 255 bytes).
local MAX_LENGTH = 1024
_M.MAX_LENGTH = MAX_LENGTH

-- Bytes allowed in the path and query besides %-escapes (RFC 3986 pchar, "/" and "?").
local PATH_BYTE = {}
for c in ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?")
        :gmatch(".") do
    PATH_BYTE[byte(c)] = true
end


-- `s` safe to log: bytes outside printable ASCII and the backslash as \xNN, so a hostile URL
-- cannot forge log lines either.
function _M.printable(s)
    return (gsub(s, ".", function(c)
        local b = byte(c)
        if b < 32 or b > 126 or b == 92 then
            return format("\\x%02x", b)
        end
        return nil   -- keep the byte
    end))
end


local function check_bytes(url)
    for i = 1, #url do
        local b = byte(url, i)
        if b == 32 then
            return "space at byte " .. i
        elseif b < 32 or b == 127 then
            return format("control character 0x%02x at byte %d", b, i)
        elseif b > 127 then
            return format("non-ASCII byte 0x%02x at byte %d", b, i)
        end
    end
    return nil
end


local function check_path(path, offset)
    local i = 1
    while i <= #path do
        local b = byte(path, i)
        if b == 37 then   -- "%"
            if not match(sub(path, i + 1, i + 2), "^%x%x$") then
                return "bad %-escape at byte " .. (offset + i)
            end
            i = i + 3
        elseif PATH_BYTE[b] then
            i = i + 1
        elseif b == 35 then
            return "fragment ('#') at byte " .. (offset + i)
        else
            return format("character '%s' not allowed at byte %d", sub(path, i, i), offset + i)
        end
    end
    return nil
end


-- Parses `url`. Returns a target table, or nil, err (err names the problem and where):
--   host        lowercase host name, dotted quad or IPv6 text (without brackets)
--   address     the binary address when the host is an IP literal, else nil
--   port        number
--   path        path and query for the request line ("/" when empty)
--   host_header the Host header value (with the port when it is not 80)
function _M.parse(url)
    if #url > MAX_LENGTH then
        return nil, "longer than " .. MAX_LENGTH .. " bytes"
    end
    local err = check_bytes(url)
    if err then
        return nil, err
    end
    local scheme, rest = match(url, "^(%a[%w+.-]*)://(.*)$")
    if not scheme then
        return nil, "not an absolute http:// URL"
    end
    scheme = lower(scheme)
    if scheme ~= "http" then
        return nil, "unsupported scheme '" .. scheme .. "' (only http:// responders are fetched)"
    end
    local authority, path = match(rest, "^([^/?#]*)(.*)$")
    if find(authority, "@", 1, true) then
        return nil, "user info ('@') is not allowed"
    end

    local host, port_text, address, bracketed
    if sub(authority, 1, 1) == "[" then
        local literal, after = match(authority, "^%[([^%]]*)%](.*)$")
        address = literal and ip.parse_ipv6(literal)
        if not address then
            return nil, "bad IPv6 address in brackets"
        end
        host, bracketed = lower(literal), true
        port_text = after
    else
        host, port_text = match(authority, "^([^:]*)(.*)$")
        host = lower(host)
        address = ip.parse_ipv4(host)
        if not address and not address_policy.is_host_name(host) then
            return nil, "bad host '" .. host .. "'"
        end
    end
    local port = 80
    if port_text ~= "" then
        local digits = match(port_text, "^:(%d%d?%d?%d?%d?)$")
        port = digits and tonumber(digits)
        if not port or port < 1 or port > 65535 then
            return nil, "bad port '" .. sub(port_text, 2) .. "'"
        end
    end

    err = check_path(path, #url - #path)
    if err then
        return nil, err
    end
    if path == "" then
        path = "/"
    elseif sub(path, 1, 1) == "?" then
        path = "/" .. path
    end
    local host_header = bracketed and "[" .. host .. "]" or host
    if port ~= 80 then
        host_header = host_header .. ":" .. port
    end
    return {
        host = host,
        address = address,
        port = port,
        path = path,
        host_header = host_header,
    }
end


return _M
