-- vigil.event: small readers for policy events.
--
--   local event = require "vigil.event"
--   event.arg(ev, "path")             -- the value of the argument labelled "path" (its
--                                     -- string_arg, int_arg, sockaddr_arg ...), or nil
--   event.arg(ev, 2)                  -- the second argument's value
--   event.abspath("x/../y", "/tmp")   --> "/tmp/y" (relative paths against a cwd)
--   event.has_prefix(path, {"/tmp/", "/dev/shm/"})
--   event.find_any(s, {"stratum+tcp://", "--donate-level"})  -- the first found in s
--                                     -- (plain text, not patterns), or nil
local native = require "vigil.native"

local M = {}

-- in C: rules call it on every policy event
M.arg = native.arg

local native_abspath, native_has_prefix, native_find_any = native.abspath, native.has_prefix, native.find_any

function M.abspath(path, cwd)
  if path == nil then return nil end
  -- the usual arguments, a string path and a string or nil cwd, in C (the same result as the
  -- lines below; nil for other arguments)
  local r = native_abspath(path, cwd)
  if r ~= nil then return r end
  if path:sub(1, 1) ~= "/" then path = (cwd or "/") .. "/" .. path end
  local parts = {}
  for seg in path:gmatch("[^/]+") do
    if seg == ".." then
      parts[#parts] = nil
    elseif seg ~= "." then
      parts[#parts + 1] = seg
    end
  end
  return "/" .. table.concat(parts, "/")
end

function M.has_prefix(s, prefixes)
  if s == nil then return false end
  local r = native_has_prefix(s, prefixes)   -- nil for other than a string and a list of strings
  if r ~= nil then return r end
  for _, p in ipairs(prefixes) do
    if s:sub(1, #p) == p then return true end
  end
  return false
end

function M.find_any(s, list)
  local found, ok = native_find_any(s, list)   -- nil, false for other than a string and a list of strings
  if found ~= nil or ok == nil then return found end
  for _, p in ipairs(list) do
    if s:find(p, 1, true) then return p end
  end
  return nil
end

return M
