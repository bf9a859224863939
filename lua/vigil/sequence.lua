-- vigil.sequence: step A, then step B by the same process or in its process tree, within T
-- seconds.
--
--   local sequence = require "vigil.sequence"
--   local s = sequence.new{within = 10, by = "tree"}     -- or by = "process" (the default)
--   s:first(ev [, data])     -- A happened in ev's process; data is kept with it
--   local a = s:match(ev)    -- B: A's record {exec_id, pid, binary, t, data}, or nil
--   s:forget(a)              -- one B per A, when the rule wants that
--
-- "process" matches B in the process of A: the same exec_id, or the same pid (the process
-- may have exec'd since: a setuid helper that execs a shell is one process). "tree" also
-- matches B in any descendant of it. Records expire after `within` seconds; at most `max`
-- (default 10000) are kept.
local lru = require "vigil.lru"
local proctree = require "vigil.proctree"

local M = {}
local Seq = {}
Seq.__index = Seq

function M.new(opts)
  assert(type(opts) == "table" and type(opts.within) == "number" and opts.within > 0,
         "sequence.new{within = seconds [, by = \"process\"|\"tree\"] [, max = N]}")
  local by = opts.by or "process"
  assert(by == "process" or by == "tree", "sequence.new: by must be \"process\" or \"tree\"")
  local max = opts.max or 10000
  return setmetatable({ within = opts.within, by = by,
                        by_id = lru.new(max, opts.within), by_pid = lru.new(max, opts.within) }, Seq)
end

function Seq:first(ev, data)
  local p = proctree.process_of(ev)
  assert(p, "sequence:first(ev): no process")
  local rec = { exec_id = p.exec_id, pid = p.pid, binary = p.binary, t = now(), data = data }
  self.by_id:set(rec.exec_id, rec)
  self.by_pid:set(rec.pid, rec)
  return rec
end

function Seq:_lookup(p)
  return self.by_id:peek(p.exec_id) or self.by_pid:peek(p.pid)
end

function Seq:match(ev)
  if self.by_id:size() == 0 then return nil end   -- the common case: no A pending
  local p = proctree.process_of(ev)
  if not p then return nil end
  local rec = self:_lookup(p)
  if rec then return rec end
  if self.by == "tree" then
    proctree.find(ev, function(a)
      rec = self:_lookup(a)
      return rec ~= nil
    end)
  end
  return rec
end

function Seq:forget(rec)
  if self.by_id:peek(rec.exec_id) == rec then self.by_id:delete(rec.exec_id) end
  if self.by_pid:peek(rec.pid) == rec then self.by_pid:delete(rec.pid) end
end

function Seq:size()
  return self.by_id:size()
end

return M
