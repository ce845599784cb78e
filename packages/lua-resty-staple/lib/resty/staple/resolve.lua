-- Turns a responder URL's host into the one address fetch_on_miss connects to, checked by the
-- address policy first. Host names are resolved here, with lua-resty-dns (OpenResty:
-- resty.dns.resolver; Debian: nginx.dns.resolver from lua-nginx-dns), and the connection then
-- goes to the checked IP: letting the cosocket resolve the name through nginx's `resolver`
-- would check one lookup and connect to another (DNS rebinding), as nginx does not say which
-- address it picked.
--
-- No DNS cache: fetches are already bounded (fetch_on_miss.rate per second, one per certificate
-- per retry_after), so a lookup per fetch costs little, and the policy always sees fresh answers.

local ip = require "resty.staple.ip"

local require = require
local pcall = pcall
local ipairs = ipairs
local type = type
local tostring = tostring
local tonumber = tonumber
local io_open = io.open
local match = string.match
local concat = table.concat
local max = math.max
local floor = math.floor

local _M = {}

-- OpenResty names lua-resty-dns resty.dns.resolver; Debian packages it as nginx.dns.resolver.
local CLIENT_MODULES = { "resty.dns.resolver", "nginx.dns.resolver" }

-- Addresses looked at per name: a responder has a few; a flood of records is not worth reading.
local MAX_ANSWERS = 16


-- The DNS client module and its name, or nil when neither is installed.
function _M.load_client()
    for _, name in ipairs(CLIENT_MODULES) do
        local ok, client = pcall(require, name)
        if ok and type(client) == "table" and client.new then
            return client, name
        end
    end
    return nil
end


-- { host, port } from "1.2.3.4", "1.2.3.4:53", "::1" or "[::1]:53", or nil.
function _M.nameserver(text)
    if type(text) ~= "string" then
        return nil
    end
    local host, port = match(text, "^%[([^%]]+)%]:(%d+)$")
    if not host then
        host, port = match(text, "^([%d.]+):(%d+)$")
    end
    host = host or text
    port = tonumber(port) or 53
    if not ip.parse(host) or port < 1 or port > 65535 then
        return nil
    end
    -- lua-resty-dns hands the host to udp:setpeername(), which wants IPv6 in brackets.
    return { ip.parse_ipv6(host) and "[" .. host .. "]" or host, port }
end


-- The nameservers of /etc/resolv.conf (or `path`), as { host, port } tables; {} when none.
function _M.system_nameservers(path)
    local f = io_open(path or "/etc/resolv.conf", "r")
    if not f then
        return {}
    end
    local servers = {}
    for line in f:lines() do
        local address = match(line, "^%s*nameserver%s+(%S+)")
        local server = address and _M.nameserver(address)
        if server then
            servers[#servers + 1] = server
        end
    end
    f:close()
    return servers
end


local function lookup(client, nameservers, host, qtype, timeout_ms)
    -- new() rewrites its nameservers table in place: give it a copy.
    local servers = {}
    for i, server in ipairs(nameservers) do
        servers[i] = { server[1], server[2] }
    end
    -- Two tries share the time left, so one lost UDP packet does not cost the whole fetch.
    local r, err = client:new{
        nameservers = servers,
        retrans = 2,
        timeout = max(1, floor(timeout_ms / 2)),
    }
    if not r then
        return nil, "DNS client: " .. tostring(err)
    end
    local answers
    answers, err = r:query(host, { qtype = qtype })
    if not answers then
        return nil, "DNS: " .. tostring(err)
    end
    if answers.errcode then
        return nil, "DNS: " .. tostring(answers.errstr) .. " (" .. answers.errcode .. ")"
    end
    local out = {}
    for _, answer in ipairs(answers) do
        if answer.type == qtype and answer.address then
            local bin = ip.parse(answer.address)
            if bin then
                out[#out + 1] = bin
            end
            if #out >= MAX_ANSWERS then
                break
            end
        end
    end
    return out
end


-- Resolves `target` (from url.parse) to one binary address that `policy` allows. IP literals
-- are checked as they are; names are resolved (A, then AAAA when there is no A record), unless
-- the operator allowed the name itself, every answer is checked, and the first allowed one
-- wins. `time_left()` returns the milliseconds left of the fetch's deadline.
-- Returns the binary address, or nil, err (naming each refused address and why).
function _M.address(target, policy, dns, time_left)
    if target.address then
        local ok, why = policy:check(target.address)
        if not ok then
            return nil, "refused address " .. ip.to_text(target.address) .. ": " .. why
        end
        return target.address
    end
    if not dns.client then
        return nil, "cannot resolve " .. target.host .. ": no DNS client (install lua-resty-dns,"
            .. " Debian: lua-nginx-dns), use an IP address in the URL"
    end
    if #dns.nameservers == 0 then
        return nil, "cannot resolve " .. target.host .. ": no nameservers"
            .. " (fetch_on_miss.nameservers, or /etc/resolv.conf)"
    end
    local name_allowed = policy:allows_name(target.host)
    local refused = {}
    for _, qtype in ipairs({ dns.client.TYPE_A, dns.client.TYPE_AAAA }) do
        local left = time_left()
        if left < 1 then
            return nil, "timeout resolving " .. target.host
        end
        local addresses, err = lookup(dns.client, dns.nameservers, target.host, qtype, left)
        if not addresses then
            return nil, "cannot resolve " .. target.host .. ": " .. err
        end
        for _, bin in ipairs(addresses) do
            if name_allowed then
                return bin
            end
            local ok, why = policy:check(bin)
            if ok then
                return bin
            end
            refused[#refused + 1] = ip.to_text(bin) .. ": " .. why
        end
    end
    if #refused > 0 then
        return nil, target.host .. " resolves only to refused addresses ("
            .. concat(refused, "; ") .. ")"
    end
    return nil, "cannot resolve " .. target.host .. ": no address"
end


-- The configured fetch_on_miss.nameservers as { host, port } tables, or nil, the index of the
-- first entry that is not "ip", "ip:port" or "[ipv6]:port".
function _M.nameservers(list)
    local out = {}
    for i, text in ipairs(list) do
        local server = _M.nameserver(text)
        if not server then
            return nil, i
        end
        out[#out + 1] = server
    end
    return out
end

return _M
