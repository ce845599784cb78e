-- Which addresses fetch_on_miss may connect to. A responder URL comes from the certificate, and
-- on a hosting platform certificates are written by customers: without a policy, one AIA URL
-- would make every nginx worker POST to 127.0.0.1, the cloud metadata service or the private
-- network. The check runs on the address that is then connected to (resolve.lua resolves host
-- names here, so nothing else resolves them again), the same default as staplewarm's worker:
-- refuse loopback, link-local (cloud metadata included), private, unspecified, multicast,
-- broadcast and reserved addresses, and IPv6 forms that embed such an IPv4 address (mapped,
-- NAT64, 6to4), unless the operator's allow-list (CIDR ranges, host names, *.domain) opens them,
-- as a private PKI needs.

local ip = require "resty.staple.ip"

local setmetatable = setmetatable
local ipairs = ipairs
local type = type
local lower = string.lower
local match = string.match
local find = string.find
local sub = string.sub
local tostring = tostring

local _M = {}
local mt = { __index = _M }

-- First match names the reason, so the more specific ranges come first.
local REFUSED = {}
for _, entry in ipairs({
    { "0.0.0.0/8", "unspecified" },
    { "127.0.0.0/8", "loopback" },
    { "169.254.169.254", "cloud metadata" },
    { "169.254.0.0/16", "link-local" },
    { "10.0.0.0/8", "private" },
    { "172.16.0.0/12", "private" },
    { "192.168.0.0/16", "private" },
    { "100.64.0.0/10", "private (shared address space)" },
    { "224.0.0.0/4", "multicast" },
    { "255.255.255.255", "broadcast" },
    { "240.0.0.0/4", "reserved" },
    { "::", "unspecified" },
    { "::1", "loopback" },
    { "::/96", "reserved (IPv4-compatible)" },
    { "fd00:ec2::254", "cloud metadata" },
    { "fe80::/10", "link-local" },
    { "fec0::/10", "private (site-local)" },
    { "fc00::/7", "private (unique local)" },
    { "ff00::/8", "multicast" },
}) do
    REFUSED[#REFUSED + 1] = { range = ip.cidr(entry[1]), why = entry[2], text = entry[1] }
end
_M.REFUSED = REFUSED


-- A host name as URLs and DNS write it: dot-separated labels of letters, digits, hyphens (not
-- first or last) and underscores. The last label must not be numeric or hex ("127.1",
-- "0x7f000001"), so no name here is an IPv4 address to another parser.
function _M.is_host_name(name)
    if #name == 0 or #name > 253 then
        return false
    end
    local start, label = 1
    repeat
        local dot = find(name, ".", start, true)
        label = sub(name, start, (dot or #name + 1) - 1)
        if #label == 0 or #label > 63 or not match(label, "^[%w_][%w_-]*$")
            or sub(label, -1) == "-" then
            return false
        end
        start = dot and dot + 1
    until not dot
    return not match(label, "^%d+$") and not match(label, "^0[xX]%x*$")
end


-- `allow`: a list of CIDR ranges or bare addresses ("10.1.0.0/16", "fd12::1"), host names
-- ("ocsp.pki.internal") and domains ("*.pki.internal": every name under it). An allowed name is
-- connected to whatever it resolves to: the operator trusts that name. Returns the policy, or
-- nil, err naming the first invalid entry.
function _M.new(allow)
    local ranges, names, suffixes = {}, {}, {}
    for i, entry in ipairs(allow or {}) do
        local text = type(entry) == "string" and lower(entry) or ""
        local range = ip.cidr(text)
        local domain = match(text, "^%*%.(.+)$")
        if range then
            ranges[#ranges + 1] = range
        elseif domain and _M.is_host_name(domain) then
            suffixes[#suffixes + 1] = "." .. domain
        elseif _M.is_host_name(text) then
            names[text] = true
        else
            return nil, "responder_allow[" .. i .. "] is neither a CIDR range nor a host name: "
                .. tostring(entry)
        end
    end
    return setmetatable({ ranges = ranges, names = names, suffixes = suffixes }, mt)
end


-- True when the operator allowed the host name itself, or a domain it is under.
function _M.allows_name(self, host)
    if self.names[host] then
        return true
    end
    for _, suffix in ipairs(self.suffixes) do
        if #host > #suffix and sub(host, -#suffix) == suffix then
            return true
        end
    end
    return false
end


local function allowed_range(self, bin)
    for _, range in ipairs(self.ranges) do
        if ip.in_cidr(bin, range) then
            return true
        end
    end
    return false
end


local function refused_range(bin)
    for _, entry in ipairs(REFUSED) do
        if ip.in_cidr(bin, entry.range) then
            return entry
        end
    end
    return nil
end


-- Checks one binary address. Returns true, or nil, why ("loopback (127.0.0.0/8)", ...).
-- An IPv6 address embedding an IPv4 one (::ffff:127.0.0.1) is judged as that IPv4 address too:
-- allowed when either form is allowed, refused when either form is refused.
function _M.check(self, bin)
    local v4, form = ip.embedded_ipv4(bin)
    if allowed_range(self, bin) or (v4 and allowed_range(self, v4)) then
        return true
    end
    local refused = refused_range(bin)
    if refused then
        return nil, refused.why .. " (" .. refused.text .. ")"
    end
    if v4 then
        refused = refused_range(v4)
        if refused then
            return nil, form .. " " .. refused.why .. " (" .. refused.text .. ")"
        end
    end
    return true
end


return _M
