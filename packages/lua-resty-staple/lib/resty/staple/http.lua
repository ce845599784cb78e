-- A minimal HTTP/1.0 client on a cosocket, for fetch_on_miss: OCSP over HTTP is one POST
-- (RFC 6960 appendix A), and with HTTP/1.0 the server closes the connection and sends no chunked
-- body, so there is nothing to decode. lua-resty-http is not a dependency (not in Debian).

local tcp = ngx.socket.tcp
local ngx_now = ngx.now
local update_time = ngx.update_time
local match = string.match
local lower = string.lower
local concat = table.concat
local tonumber = tonumber
local tostring = tostring

local _M = {}


local function now_ms()
    update_time()
    return ngx_now() * 1000
end


-- http://host[:port][/path] -> host, port, path. OCSP is plain HTTP (RFC 6960 appendix A).
local function parse_url(url)
    local host, port, path = match(url, "^[Hh][Tt][Tt][Pp]://([^/:?#]+):?(%d*)(.*)$")
    if not host then
        return nil
    end
    if path == "" then
        path = "/"
    end
    return host, tonumber(port) or 80, path
end


-- POSTs `body` to `url` with Content-Type application/ocsp-request and returns the response
-- body, or nil, err. The whole exchange shares one deadline of conf.timeout_ms; a body larger
-- than conf.max_size is refused.
function _M.post(url, body, conf)
    local host, port, path = parse_url(url)
    if not host then
        return nil, "unsupported responder URL " .. url
    end
    local deadline = now_ms() + conf.timeout_ms
    local sock = tcp()
    local function arm()
        local left = deadline - now_ms()
        if left < 1 then
            return false
        end
        sock:settimeout(left)
        return true
    end

    arm()
    local ok, err = sock:connect(host, port)
    if not ok then
        return nil, "connect " .. host .. ":" .. port .. ": " .. tostring(err)
    end
    local request = concat({
        "POST ", path, " HTTP/1.0\r\n",
        "Host: ", host, port ~= 80 and ":" .. port or "", "\r\n",
        "Content-Type: application/ocsp-request\r\n",
        "Content-Length: ", #body, "\r\n",
        "\r\n", body,
    })
    if not arm() then
        sock:close()
        return nil, "timeout"
    end
    ok, err = sock:send(request)
    if not ok then
        sock:close()
        return nil, "send: " .. tostring(err)
    end

    if not arm() then
        sock:close()
        return nil, "timeout"
    end
    local line
    line, err = sock:receive("*l")
    local status = line and tonumber(match(line, "^HTTP/%d%.%d (%d%d%d)"))
    if not status then
        sock:close()
        return nil, "bad status line: " .. tostring(line or err)
    end
    local length
    repeat
        if not arm() then
            sock:close()
            return nil, "timeout"
        end
        line, err = sock:receive("*l")
        if not line then
            sock:close()
            return nil, "headers: " .. tostring(err)
        end
        local name, value = match(line, "^([^:]+):%s*(.-)%s*$")
        if name and lower(name) == "content-length" then
            length = tonumber(value)
        end
    until line == ""
    if status ~= 200 then
        sock:close()
        return nil, "HTTP " .. status
    end

    local max = conf.max_size
    if length and length > max then
        sock:close()
        return nil, "response of " .. length .. " bytes exceeds max_size " .. max
    end
    local parts, size = {}, 0
    while not length or size < length do
        if not arm() then
            sock:close()
            return nil, "timeout"
        end
        local chunk
        chunk, err = sock:receiveany(length and length - size or max + 1 - size)
        if not chunk then
            if err == "closed" and not length then
                break
            end
            sock:close()
            return nil, "body: " .. tostring(err)
        end
        parts[#parts + 1] = chunk
        size = size + #chunk
        if size > max then
            sock:close()
            return nil, "response exceeds max_size " .. max
        end
    end
    sock:close()
    return concat(parts)
end


return _M
