-- A minimal HTTP/1.0 client on a cosocket, for fetch_on_miss: OCSP over HTTP is one POST
-- (RFC 6960 appendix A), and with HTTP/1.0 the server closes the connection and sends no chunked
-- body, so there is nothing to decode. lua-resty-http is not a dependency (not in Debian).
--
-- The responder is not trusted (its URL comes from a certificate), so everything it can make
-- this client hold is bounded: one deadline for the whole exchange (timeout_ms), the length of
-- each header line (max_header_line), the number of header lines (max_headers), and the body
-- (max_size). The request is built from url.lua's checked parts only, and the connection goes to
-- the address resolve.lua checked, never to a name.

local tcp = ngx.socket.tcp
local ngx_now = ngx.now
local update_time = ngx.update_time
local match = string.match
local find = string.find
local sub = string.sub
local lower = string.lower
local concat = table.concat
local tonumber = tonumber
local tostring = tostring

local _M = {}

-- Bytes asked of the socket per read while reading the header.
local HEADER_READ = 4096


function _M.now_ms()
    update_time()
    return ngx_now() * 1000
end
local now_ms = _M.now_ms


-- A socket whose every operation gets what is left of `deadline` (ms), or fails with "timeout".
local function deadline_socket(deadline)
    local sock = tcp()
    local function arm()
        local left = deadline - now_ms()
        if left < 1 then
            return false
        end
        sock:settimeout(left)
        return true
    end
    return sock, arm
end


-- Reads the status line and header. Returns status, content_length (or nil), the bytes read
-- past the header (the start of the body), or nil, err.
local function read_header(sock, arm, conf)
    local max_line, max_headers = conf.max_header_line, conf.max_headers
    local buf, pos = "", 1
    local status, length
    local headers = 0
    while true do
        local nl = find(buf, "\n", pos, true)
        if not nl then
            if #buf - pos + 1 > max_line then
                return nil, "header line longer than max_header_line " .. max_line
            end
            if not arm() then
                return nil, "timeout"
            end
            local chunk, err = sock:receiveany(HEADER_READ)
            if not chunk then
                return nil, "header: " .. tostring(err)
            end
            buf = sub(buf, pos) .. chunk
            pos = 1
        else
            local line = sub(buf, pos, nl - 1)
            pos = nl + 1
            if sub(line, -1) == "\r" then
                line = sub(line, 1, -2)
            end
            if #line > max_line then
                return nil, "header line longer than max_header_line " .. max_line
            end
            if not status then
                status = tonumber(match(line, "^HTTP/1%.[01] (%d%d%d)"))
                if not status then
                    return nil, "bad status line"
                end
            elseif line == "" then
                return status, length, sub(buf, pos)
            else
                headers = headers + 1
                if headers > max_headers then
                    return nil, "more than max_headers " .. max_headers .. " header lines"
                end
                local name, value = match(line, "^([%w!#$%%&'*+.^_`|~-]+):[ \t]*(.-)[ \t]*$")
                if not name then
                    return nil, "malformed header line " .. headers
                end
                if lower(name) == "content-length" then
                    local n = match(value, "^%d%d?%d?%d?%d?%d?%d?%d?%d?$") and tonumber(value)
                    if not n or (length and length ~= n) then
                        return nil, "bad Content-Length"
                    end
                    length = n
                end
            end
        end
    end
end


-- Reads the body: `length` bytes when known, else until the server closes; `head` holds what
-- came with the header. Returns the body or nil, err.
local function read_body(sock, arm, length, head, max)
    if length and length > max then
        return nil, "response of " .. length .. " bytes exceeds max_size " .. max
    end
    local parts, size = { head }, #head
    while not length or size < length do
        if size > max then
            return nil, "response exceeds max_size " .. max
        end
        if not arm() then
            return nil, "timeout"
        end
        local chunk, err = sock:receiveany(length and length - size or max + 1 - size)
        if not chunk then
            if err == "closed" and not length then
                break
            end
            return nil, "body: " .. tostring(err)
        end
        parts[#parts + 1] = chunk
        size = size + #chunk
    end
    if size > max then
        return nil, "response exceeds max_size " .. max
    end
    local body = concat(parts)
    if length and #body > length then
        body = sub(body, 1, length)
    end
    return body
end


-- POSTs `body` (Content-Type application/ocsp-request) for `target` (from url.parse) to
-- `address` (IP text, as resolve.lua chose it) and returns the response body, or nil, err.
-- `deadline` (ms, now_ms() clock) bounds the whole exchange; conf is fetch_on_miss.
function _M.post(target, address, body, conf, deadline)
    local sock, arm = deadline_socket(deadline)
    if not arm() then
        return nil, "timeout"
    end
    local host = find(address, ":", 1, true) and "[" .. address .. "]" or address
    local ok, err = sock:connect(host, target.port)
    if not ok then
        return nil, "connect " .. host .. ":" .. target.port .. ": " .. tostring(err)
    end
    local request = concat({
        "POST ", target.path, " HTTP/1.0\r\n",
        "Host: ", target.host_header, "\r\n",
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

    local status, length, head = read_header(sock, arm, conf)
    if not status then
        sock:close()
        return nil, length
    end
    if status ~= 200 then
        sock:close()
        return nil, "HTTP " .. status
    end
    local response
    response, err = read_body(sock, arm, length, head, conf.max_size)
    sock:close()
    if not response then
        return nil, err
    end
    return response
end


return _M
