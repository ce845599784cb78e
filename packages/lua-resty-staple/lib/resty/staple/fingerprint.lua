-- Fingerprints: the contract's <fp> (lowercase hex SHA-256 of the leaf's DER) and its binary
-- form (the cache key), and the leaf of a DER chain. Pure Lua.

local byte = string.byte
local sub = string.sub
local char = string.char
local format = string.format
local concat = table.concat
local tonumber = tonumber

local _M = {}


-- The first certificate of a DER chain (the leaf), found from its outer SEQUENCE header.
function _M.leaf_of(chain)
    local tag, b = byte(chain, 1, 2)
    if tag ~= 0x30 or not b then
        return nil, "not a DER certificate"
    end
    local len, header = b, 2
    if b >= 0x80 then
        local n = b - 0x80
        if n < 1 or n > 4 then
            return nil, "bad DER length"
        end
        len = 0
        for i = 3, 2 + n do
            len = len * 256 + (byte(chain, i) or 0)
        end
        header = 2 + n
    end
    if header + len > #chain then
        return nil, "truncated DER certificate"
    end
    return sub(chain, 1, header + len)
end


local HEX = {}
for i = 0, 255 do
    HEX[i] = format("%02x", i)
end


-- Lowercase hex of a binary string (the contract's <fp>).
function _M.to_hex(bin)
    local out = {}
    for i = 1, #bin do
        out[i] = HEX[byte(bin, i)]
    end
    return concat(out)
end


-- Binary from 64 hex digits (a SHA-256 fingerprint), or nil when `hex` is not one.
function _M.from_hex(hex)
    if #hex ~= 64 or hex:find("[^%x]") then
        return nil
    end
    return (hex:gsub("%x%x", function(pair) return char(tonumber(pair, 16)) end))
end


return _M
