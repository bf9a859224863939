-- vigil.proctree: who started this process. Ancestors come from the event's own parent,
-- then from the agent's process cache (process(exec_id)), so they survive the event. An
-- exec_id names one image for good: the first table made for one (the event's parent
-- copied, or process()'s answer) serves the later events too; walks stop at what they look
-- for.
--
--   local proctree = require "vigil.proctree"
--   for _, a in ipairs(proctree.ancestors(ev)) do print(a.binary) end   -- parent first
--   if proctree.is_descendant_of(ev, "nginx") then ... end      -- a name, a path, or a list
--   local a = proctree.find(ev, function(p) return p.uid == 0 end [, include_self [, max]])
--   proctree.basename("/usr/bin/bash") --> "bash"
local lru = require "vigil.lru"

local M = {}

local MAX_DEPTH = 64

-- exec_ids name one image for good: what process() said about one stays true, and the
-- ancestors of a busy tree are asked for again and again
local known = lru.new(4096)

local function lookup(id)
  local p = known:get(id)
  if p == nil then
    p = process(id)
    if p then known:set(id, p) end
  end
  return p
end

local native_basename = require("vigil.native").basename

function M.basename(path)
  local base = native_basename(path)   -- the same, in C, for a string (nil for others)
  if base ~= nil then return base end
  return (tostring(path or ""):match("([^/]*)$"))
end

-- The process of an event (ev, a copy of it) or a process itself (a view, a table).
function M.process_of(x)
  if x == nil then return nil end
  local p = x.process
  if p == nil and x.exec_id ~= nil then p = x end
  return p
end

-- Call fn(a, i) on the ancestors of x, nearest first, as plain tables (at most max), until
-- it returns true; returns that ancestor.
local function walk(x, max, fn)
  local p = M.process_of(x)
  if not p then return nil end
  local id = p.parent_exec_id
  if id == nil or id == "" then return nil end
  local n, seen = 0, nil
  local a = known:get(id)
  if a == nil then
    -- the event's own parent, copied once for its exec_id
    local parent = p ~= x and x.parent or nil
    if parent ~= nil and parent.exec_id ~= nil and parent.exec_id == id then
      a = copy(parent)
      known:set(id, a)
    end
  end
  while a ~= nil or (id ~= nil and id ~= "") do
    if a == nil then
      if seen and seen[id] then return nil end
      a = lookup(id)
      if not a then return nil end
    end
    n = n + 1
    if fn(a, n) then return a end
    if n >= max then return nil end
    seen = seen or {}
    seen[id] = true
    id, a = a.parent_exec_id, nil
  end
  return nil
end

-- The ancestors of x, nearest first, as plain tables (at most max, default 64).
function M.ancestors(x, max)
  local out = {}
  walk(x, max or MAX_DEPTH, function(a, i) out[i] = a end)
  return out
end

-- want: a path ("/usr/sbin/nginx"), a name ("nginx", compared with the basename), or a list
-- of either.
local function matches(binary, want)
  if type(want) == "table" then
    -- the basename once for the whole list, not once per name in it
    local base
    for _, w in ipairs(want) do
      if type(w) == "string" then
        if #native_basename(w) ~= #w then   -- a path: it has a '/'
          if (binary or "") == w then return true end
        else
          if base == nil then base = M.basename(binary or "") end
          if base == w then return true end
        end
      elseif matches(binary, w) then
        return true
      end
    end
    return false
  end
  binary = binary or ""
  if want:find("/", 1, true) then return binary == want end
  return M.basename(binary) == want
end
M.matches = matches

-- The first ancestor (or x's own process with include_self) for which fn(p) is true,
-- looking at most max generations up (default 64).
function M.find(x, fn, include_self, max)
  if include_self then
    local p = M.process_of(x)
    if p and fn(p) then return p end
  end
  return walk(x, max or MAX_DEPTH, function(a) return fn(a) end)
end

-- Whether an ancestor ran binary; also returns that ancestor.
function M.is_descendant_of(x, binary)
  local a = M.find(x, function(p) return matches(p.binary, binary) end)
  return a ~= nil, a
end

return M
