-- IP addresses as binary strings (4 bytes for IPv4, 16 for IPv6) and CIDR ranges over them.
-- Pure Lua. Only the strict textual forms are accepted: a dotted quad of decimal numbers without
-- leading zeros, and RFC 4291 IPv6 text (one "::", an optional dotted-quad tail, no zone id).
-- inet_aton's other forms ("127.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1") are refused,
-- so a URL host cannot name an address that a later parser would read differently.

local byte = string.byte
local char = string.char
local sub = string.sub
local find = string.find
local match = string.match
local format = string.format
local concat = table.concat
local floor = math.floor
local tonumber = tonumber

local _M = {}


-- "0".."255", no leading zero (an octal reading of "010" is 8, a decimal one 10: refuse both).
local function octet(text)
    if not text or #text == 0 or #text > 3 or find(text, "[^0-9]")
        or (#text > 1 and byte(text) == 48) then
        return nil
    end
    local n = tonumber(text)
    return n <= 255 and n or nil
end


-- 4-byte string from a strict dotted quad, or nil.
function _M.parse_ipv4(text)
    local a, b, c, d = match(text, "^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    a, b, c, d = octet(a), octet(b), octet(c), octet(d)
    if not (a and b and c and d) then
        return nil
    end
    return char(a, b, c, d)
end


-- Appends the 16-bit groups of `part` ("a:b:c", possibly "" or ending in a dotted quad when
-- `tail_ok`) to `out`; false when a group is malformed.
local function add_groups(part, tail_ok, out)
    if part == "" then
        return true
    end
    local start = 1
    while true do
        local colon = find(part, ":", start, true)
        local group = sub(part, start, colon and colon - 1 or #part)
        if not colon and tail_ok and find(group, ".", 1, true) then
            local v4 = _M.parse_ipv4(group)
            if not v4 then
                return false
            end
            local b1, b2, b3, b4 = byte(v4, 1, 4)
            out[#out + 1] = b1 * 256 + b2
            out[#out + 1] = b3 * 256 + b4
            return true
        end
        if not match(group, "^%x%x?%x?%x?$") then
            return false
        end
        out[#out + 1] = tonumber(group, 16)
        if not colon then
            return true
        end
        start = colon + 1
    end
end


-- 16-byte string from IPv6 text, or nil.
function _M.parse_ipv6(text)
    if #text < 2 or #text > 45 or find(text, "[^%x:%.]") then
        return nil
    end
    local left, right = {}, {}
    local double = find(text, "::", 1, true)
    if double then
        if find(text, "::", double + 1, true) then
            return nil
        end
        if not add_groups(sub(text, 1, double - 1), false, left)
            or not add_groups(sub(text, double + 2), true, right)
            or #left + #right > 7 then
            return nil
        end
        for _ = 1, 8 - #left - #right do
            left[#left + 1] = 0
        end
        for i = 1, #right do
            left[#left + 1] = right[i]
        end
    elseif not add_groups(text, true, left) or #left ~= 8 then
        return nil
    end
    local bytes = {}
    for i = 1, 8 do
        bytes[2 * i - 1] = char(floor(left[i] / 256))
        bytes[2 * i] = char(left[i] % 256)
    end
    return concat(bytes)
end


-- Binary address from IPv4 or IPv6 text, or nil.
function _M.parse(text)
    return _M.parse_ipv4(text) or _M.parse_ipv6(text)
end


-- Text of a binary address: dotted quad, or the eight groups of IPv6 (uncompressed: the form
-- is for logs and for connecting, not for display).
function _M.to_text(bin)
    if #bin == 4 then
        return format("%d.%d.%d.%d", byte(bin, 1, 4))
    end
    local groups = {}
    for i = 1, 8 do
        local hi, lo = byte(bin, 2 * i - 1, 2 * i)
        groups[i] = format("%x", hi * 256 + lo)
    end
    return concat(groups, ":")
end


-- A CIDR range { bin = <address>, bits = <prefix length> } from "addr/len" or a bare address
-- (a single-address range), or nil, err.
function _M.cidr(text)
    local addr, bits = match(text, "^([^/]+)/(%d+)$")
    if not addr then
        addr = text
    end
    local bin = _M.parse(addr)
    if not bin then
        return nil, "not an IP address or CIDR range"
    end
    local max = #bin * 8
    bits = bits and tonumber(bits) or max
    if bits > max then
        return nil, "prefix length above " .. max
    end
    return { bin = bin, bits = bits }
end


-- True when `bin` (a binary address) is in `range` (from cidr()); addresses of the other family
-- never are.
function _M.in_cidr(bin, range)
    if #bin ~= #range.bin then
        return false
    end
    local whole = floor(range.bits / 8)
    if sub(bin, 1, whole) ~= sub(range.bin, 1, whole) then
        return false
    end
    local rest = range.bits % 8
    if rest == 0 then
        return true
    end
    local shift = 2 ^ (8 - rest)
    return floor(byte(bin, whole + 1) / shift) == floor(byte(range.bin, whole + 1) / shift)
end


-- IPv6 forms that carry an IPv4 address a gateway forwards to (the IPv4 address is what the
-- connection in effect reaches). Returns the embedded IPv4 (binary) and the form's name, or nil.
-- IPv4-compatible addresses (::a.b.c.d, deprecated) are not unwrapped: the policy refuses ::/96.
local MAPPED = ("\0"):rep(10) .. "\255\255"       -- ::ffff:0:0/96 (RFC 4291)
local NAT64 = "\0\100\255\155" .. ("\0"):rep(8)   -- 64:ff9b::/96 (RFC 6052)
function _M.embedded_ipv4(bin)
    if #bin ~= 16 then
        return nil
    end
    local prefix12 = sub(bin, 1, 12)
    if prefix12 == MAPPED then
        return sub(bin, 13, 16), "IPv4-mapped"
    end
    if prefix12 == NAT64 then
        return sub(bin, 13, 16), "NAT64"
    end
    if sub(bin, 1, 2) == "\32\2" then   -- 2002::/16 (6to4, RFC 3056)
        return sub(bin, 3, 6), "6to4"
    end
    return nil
end


return _M
