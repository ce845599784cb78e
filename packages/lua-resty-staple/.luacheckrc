-- luacheck lib  (Debian: apt-get install lua-check). OpenResty style: no globals but ngx.
std = "ngx_lua"
max_line_length = 100
