-- api_tour: a seed that reaches every part of the rule API on every event (alerts with
-- templates and fields, copies, views, deny, kill, timers, lru, event helpers).
local lru = require "vigil.lru"
local event = require "vigil.event"
local seen = lru.new(4)
local kept = {}

every(1, function()
  if #kept > 0 then alert{ events = kept, exec_ids = { "x" }, output = "%{n} kept %node_name" , fields = { n = #kept } } end
  kept = {}
end)

return {
  name = "api_tour",
  desc = "every API call on every event",
  priority = "notice",
  tags = { "fuzz", "MITRE:T0000" },
  output = "%proc.name %proc.exepath %proc.args %proc.cmdline %proc.pid %proc.cwd %proc.pname %proc.ppid " ..
           "%user.uid %evt.type %evt.time %process.binary %args.0.string_arg %{why} %nosuch",
  events = { "process_exec", "process_exit", "process_kprobe", "process_tracepoint", "process_lsm", "process_uprobe" },
  on_event = function(ev)
    local id = ev["process.exec_id"]
    if id then seen:set(id, now()) end
    local p = ev.process
    local s = tostring(p) .. tostring(ev.args) .. tostring(ev.args and #ev.args)
    for k, v in pairs(ev.process or {}) do s = s .. tostring(k) .. tostring(v) end
    for i, a in ipairs(ev.args or {}) do s = s .. tostring(i) .. tostring(a) end
    if event.has_prefix(ev["process.binary"] or "", { "/usr/", "/tmp/" }) then s = s .. "!" end
    kept[#kept + 1] = copy(ev)
    alert{ fields = { why = s:sub(1, 40) }, priority = "alert" }
    deny("lua-denied-binaries", ev["process.binary"] or "/x", ev)
    kill(ev["process.pid"] or 1, "SIGKILL")
  end,
}
