-- cryptominer: a process that looks like a miner (run from a staging directory, or with
-- pool arguments such as stratum+tcp://) holds a connection to a high port for 10 s: it is
-- killed, and the file it ran is denied in the kernel, so the next attempt to run that file
-- dies at exec before running an instruction.
--
-- Arguments are the user's to choose: `curl http://host:8080/randomx` looks like a miner
-- too. So the deny names the evidence (the connect event) and asks for the file the process
-- ran, by identity; the agent grants it only for a file the process's own user owns, never
-- for a root-owned system binary (README "Lua deny, checked"). A refused deny is reported
-- in the rule_action event and the alert; the process is still killed, as it was the
-- user's own process holding the connection.
--
-- Connects come from rules/policies/lua-network.yaml; the kernel side of deny() is the
-- lua-denied-binaries "files" list of rules/policies/lua-deny-exec.yaml. "Holds" means the
-- process has not exited 10 s after its connect (the timer below checks each second).
local lru = require "vigil.lru"
local event = require "vigil.event"

local HOLD = 10
local MIN_PORT = 1024
local DENY_LIST = "lua-denied-binaries"
local STAGING = { "/tmp/", "/var/tmp/", "/dev/shm/", "/run/user/" }
-- plain strings (found without the pattern matcher: this runs on every high-port connect)
local POOL_ARGS = { "stratum+tcp://", "stratum+ssl://", "stratum2+tcp://", "--donate-level", "--coin ", "--coin=",
                    "--algo ", "--algo=", "cryptonight", "randomx", "nicehash" }

local pending = lru.new(10000)	-- exec_id -> {pid, binary, dest, t, ev}
local acted = lru.new(10000)	-- exec_ids already dealt with

local function suspicious(binary, arguments)
  if event.has_prefix(binary, STAGING) then return "run from " .. binary:match("^(/[^/]+/)") end
  if event.find_any((arguments or ""):lower(), POOL_ARGS) then return "pool arguments" end
  return nil
end

local function act(rec)
  -- the file this process ran, on the evidence of its connect: the agent decides
  local ok, err = deny(DENY_LIST, rec.binary, rec.ev)
  local verdict = ok and "binary denied in the kernel" or ("binary not denied: " .. tostring(err))
  alert{ ev = rec.ev, fields = { dest = rec.dest, hold = HOLD, why = rec.why, verdict = verdict } }
  kill(rec.pid, "SIGKILL")
end

every(1, function()
  local due = {}
  for id, rec in pending:pairs() do
    if now() - rec.t >= HOLD then due[#due + 1] = id end
  end
  for _, id in ipairs(due) do
    local rec = pending:delete(id)
    acted:set(id, true)
    act(rec)
  end
end)

return {
  name = "cryptominer",
  desc = "A miner-like process holds a high-port connection for 10 s: killed, and the file it ran denied",
  priority = "critical",
  tags = { "MITRE:T1496", "cryptomining", "enforce" },
  output = "Cryptominer: %proc.exepath (pid %proc.pid, %{why}) held a connection to %{dest} " ..
           "for %{hold} s: killed, %{verdict}",
  events = { "process_tracepoint", "process_exit" },
  hooks = { "sys_enter_connect" },	-- of the tracepoints, only connects
  on_event = function(ev, kind, hook)
    if kind == "process_exit" then
      if pending:size() > 0 then pending:delete(ev["process.exec_id"]) end
      return
    end
    if hook ~= "sys_enter_connect" then return end
    local id = ev["process.exec_id"]
    if pending:peek(id) or acted:peek(id) then return end
    local addr = event.arg(ev, "addr")
    if not addr or (addr.port or 0) < MIN_PORT then return end
    -- tested on the view: only a connect that is kept is copied (most are not)
    local why = suspicious(ev["process.binary"], ev["process.arguments"])
    if why then
      local c = copy(ev)
      pending:set(id, { pid = c.process.pid, binary = c.process.binary, t = now(), ev = c, why = why,
                        dest = tostring(addr.addr) .. ":" .. tostring(addr.port) })
    end
  end,
}
