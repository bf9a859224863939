-- vigil.lru: a table bounded by entry count (least recently used goes first), with an
-- optional time to live per entry.
--
--   local lru = require "vigil.lru"
--   local seen = lru.new(10000)          -- at most 10000 keys
--   local recent = lru.new(1000, 60)     -- and each key forgotten 60 s after its last set
--   seen:set(k, v)  seen:get(k)  seen:peek(k)  seen:delete(k)  seen:size()
--   for k, v in seen:pairs() do ... end  -- most recently used first
local M = {}
local Lru = {}
Lru.__index = Lru

function M.new(max, ttl)
  assert(type(max) == "number" and max >= 1, "lru.new(max [, ttl]): max must be >= 1")
  assert(ttl == nil or (type(ttl) == "number" and ttl > 0), "lru.new: ttl must be > 0 seconds")
  -- a circular list with a sentinel: head.next is the newest, head.prev the oldest
  local head = {}
  head.next, head.prev = head, head
  -- the methods in the instance too, and ttl false rather than nil: rules call them on every
  -- event, and a key found in the table itself skips the metatable's __index (which stays)
  return setmetatable({ max = max, ttl = ttl or false, n = 0, map = {}, head = head, get = Lru.get, peek = Lru.peek,
                        set = Lru.set, delete = Lru.delete, size = Lru.size, pairs = Lru.pairs,
                        expire = Lru.expire }, Lru)
end

local function unlink(node)
  node.prev.next, node.next.prev = node.next, node.prev
end

local function push_front(self, node)
  local head = self.head
  node.next, node.prev = head.next, head
  head.next.prev = node
  head.next = node
end

local function expired(self, node)
  return self.ttl and now() - node.t > self.ttl
end

function Lru:delete(key)
  local node = self.map[key]
  if node then
    unlink(node)
    self.map[key] = nil
    self.n = self.n - 1
    return node.value
  end
end

-- The value, and the entry becomes the most recent; nil when absent or expired.
function Lru:get(key)
  local node = self.map[key]
  if not node then return nil end
  local ttl = self.ttl
  if ttl and now() - node.t > ttl then
    self:delete(key)
    return nil
  end
  local head = self.head
  if head.next ~= node then	-- often it is already the newest: nothing to move
    unlink(node)
    push_front(self, node)
  end
  return node.value
end

-- The value without touching the order.
function Lru:peek(key)
  local node = self.map[key]
  if node == nil then return nil end
  local ttl = self.ttl
  if ttl and now() - node.t > ttl then return nil end
  return node.value
end

-- Set (or replace) the value; returns the evicted key and value when the table was full.
function Lru:set(key, value)
  assert(key ~= nil, "lru:set: nil key")
  local node = self.map[key]
  if node then
    node.value, node.t = value, now()
    if self.head.next ~= node then
      unlink(node)
      push_front(self, node)
    end
    return
  end
  node = { key = key, value = value, t = now() }
  self.map[key] = node
  push_front(self, node)
  self.n = self.n + 1
  if self.n > self.max then
    local old = self.head.prev
    self:delete(old.key)
    return old.key, old.value
  end
end

function Lru:size()
  return self.n
end

-- Drop the expired entries (the oldest are at the tail); returns how many went.
function Lru:expire()
  local dropped = 0
  while self.n > 0 and expired(self, self.head.prev) do
    self:delete(self.head.prev.key)
    dropped = dropped + 1
  end
  return dropped
end

-- Iterate from the most to the least recently used, skipping expired entries.
function Lru:pairs()
  local node = self.head
  return function()
    repeat
      node = node.next
    until node == self.head or not expired(self, node)
    if node ~= self.head then return node.key, node.value end
  end
end

return M
