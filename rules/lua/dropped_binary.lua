-- dropped_binary: a file written (or made executable) in a staging directory, then executed
-- from the same path within a minute: the download-and-run step of most intrusions.
--
-- Writes and chmods come from rules/policies/lua-files.yaml: opens for writing under /tmp,
-- /var/tmp, /dev/shm and /run/user (and relative ones, resolved here with the writer's cwd),
-- chmod/fchmodat setting an execute bit, and renames (a file written under one name and
-- renamed into place keeps its history). The exec is the process_exec of that path. A
-- script run through its interpreter ("sh /tmp/x.sh") is the interpreter's exec, and stays
-- silent.
local lru = require "vigil.lru"
local proctree = require "vigil.proctree"
local event = require "vigil.event"

local WITHIN = 60
local STAGING = { "/tmp/", "/var/tmp/", "/dev/shm/", "/run/user/" }

local dropped = lru.new(50000, WITHIN)	-- absolute path -> {how, exec_id}

local function mark(ev, path, what)
  path = event.abspath(path, ev["process.cwd"])
  if not event.has_prefix(path, STAGING) then return end
  local how = what .. " by " .. ev["process.binary"]
  local rec = dropped:peek(path)
  if rec then
    if not rec.how:find(how, 1, true) then rec.how = rec.how .. ", " .. how end
    dropped:set(path, rec)
  else
    dropped:set(path, { how = how, exec_id = ev["process.exec_id"] })
  end
end

local function renamed(ev)
  local cwd = ev["process.cwd"]
  local old = event.abspath(event.arg(ev, "oldpath"), cwd)
  local rec = old and dropped:peek(old)
  if rec then
    dropped:delete(old)
    local new = event.abspath(event.arg(ev, "newpath"), cwd)
    if event.has_prefix(new, STAGING) then
      rec.how = rec.how .. ", renamed from " .. old
      dropped:set(new, rec)
    end
  end
end

local handlers = {
  sys_enter_openat = function(ev) mark(ev, event.arg(ev, "path"), "written") end,
  sys_enter_chmod = function(ev) mark(ev, event.arg(ev, "path"), "chmod +x") end,
  sys_enter_fchmodat = function(ev) mark(ev, event.arg(ev, "path"), "chmod +x") end,
  sys_enter_rename = renamed,
  sys_enter_renameat = renamed,
  sys_enter_renameat2 = renamed,
}

return {
  name = "dropped_binary",
  desc = "A binary written or made executable in a staging directory is executed within a minute",
  priority = "critical",
  tags = { "MITRE:T1105", "MITRE:T1204.002", "dropper" },
  output = "Dropped binary executed: %proc.cmdline (%{how}) pid %proc.pid parent %proc.pname",
  events = { "process_exec", "process_tracepoint" },
  hooks = { "sys_enter_openat", "sys_enter_chmod", "sys_enter_fchmodat", "sys_enter_rename", "sys_enter_renameat",
            "sys_enter_renameat2" },	-- the handlers above
  on_event = function(ev, kind, hook)
    if kind == "process_exec" then
      local path = ev["process.binary"]
      local rec = dropped:get(path)
      if rec then
        dropped:delete(path)
        alert{ fields = { how = rec.how }, exec_ids = { rec.exec_id } }
      end
      return
    end
    local h = handlers[hook]
    if h then h(ev) end
  end,
}
