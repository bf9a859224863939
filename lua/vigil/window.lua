-- vigil.window: per-key sliding windows and counters with expiry, bounded in keys.
--
--   local window = require "vigil.window"
--   local w = window.new{seconds = 5, max_keys = 10000}
--   local n = w:add(key [, amount [, value]])   -- count for key over the last 5 s, this one included
--   w:count(key)       w:values(key) (the values added in the window, oldest first)
--   w:reset(key)       w:size()
--
--   local c = window.counter{ttl = 60, max_keys = 10000}
--   c:incr(key [, amount]) -> total since the key was last idle for ttl seconds
--   c:get(key)         c:reset(key)        c:size()
--
-- Time is now(), the host's clock. Keys beyond max_keys push out the least recently used.
local lru = require "vigil.lru"

local M = {}

local Window = {}
Window.__index = Window

function M.new(opts)
  assert(type(opts) == "table" and type(opts.seconds) == "number" and opts.seconds > 0,
         "window.new{seconds = N [, max_keys = N]}")
  return setmetatable({ seconds = opts.seconds, keys = lru.new(opts.max_keys or 10000) }, Window)
end

-- drop the entries that fell out of the window; q is {first, last, [i] = {t, n, v}}
local function trim(self, q, t)
  local horizon = t - self.seconds
  while q.first <= q.last and q[q.first].t <= horizon do
    q.sum = q.sum - q[q.first].n
    q[q.first] = nil
    q.first = q.first + 1
  end
end

function Window:add(key, amount, value)
  amount = amount or 1
  local t = now()
  local q = self.keys:get(key)
  if not q then
    q = { first = 1, last = 0, sum = 0 }
    self.keys:set(key, q)
  end
  trim(self, q, t)
  q.last = q.last + 1
  q[q.last] = { t = t, n = amount, v = value }
  q.sum = q.sum + amount
  return q.sum
end

function Window:count(key)
  local q = self.keys:peek(key)
  if not q then return 0 end
  trim(self, q, now())
  return q.sum
end

function Window:values(key)
  local q, out = self.keys:peek(key), {}
  if q then
    trim(self, q, now())
    for i = q.first, q.last do out[#out + 1] = q[i].v end
  end
  return out
end

function Window:reset(key)
  self.keys:delete(key)
end

function Window:size()
  return self.keys:size()
end

local Counter = {}
Counter.__index = Counter

function M.counter(opts)
  assert(type(opts) == "table" and type(opts.ttl) == "number" and opts.ttl > 0,
         "window.counter{ttl = N [, max_keys = N]}")
  return setmetatable({ keys = lru.new(opts.max_keys or 10000, opts.ttl) }, Counter)
end

function Counter:incr(key, amount)
  local v = (self.keys:get(key) or 0) + (amount or 1)
  self.keys:set(key, v)
  return v
end

function Counter:get(key)
  return self.keys:peek(key) or 0
end

function Counter:reset(key)
  self.keys:delete(key)
end

function Counter:size()
  self.keys:expire()
  return self.keys:size()
end

return M
