-- shell_from_service: a shell started by a network-facing service, which then connects
-- out within 10 s: the shape of a web shell or a reverse shell after an RCE.
--
-- Network-facing: a process seen calling listen() (rules/policies/lua-network.yaml), or one
-- of the well-known daemons below (for those that listened before the agent started). sshd
-- is not one: starting shells is its job. The service must be within four generations of
-- the shell (nginx -> php-fpm -> sh -> sh), and the connect may come from the shell or
-- anything it started.
local lru = require "vigil.lru"
local proctree = require "vigil.proctree"
local event = require "vigil.event"

local WITHIN = 10	-- seconds from the shell's start to its connect
local DEPTH = 4		-- generations between service and shell

local SHELLS = { sh = true, bash = true, dash = true, zsh = true, ksh = true, mksh = true, ash = true,
                 fish = true, tcsh = true, csh = true, busybox = true }
local SERVICES = { "nginx", "apache2", "httpd", "lighttpd", "caddy", "php-fpm", "php-fpm8.2", "node", "java",
                   "tomcat", "gunicorn", "uwsgi", "uvicorn", "redis-server", "mysqld", "mariadbd", "postgres",
                   "mongod", "memcached", "haproxy", "traefik", "envoy" }

local listeners = lru.new(20000)		-- exec_id -> binary: processes that called listen()
local shells = lru.new(10000, WITHIN)	-- exec_id of a shell under a service -> what we know

local function network_facing(p)
  return listeners:peek(p.exec_id) ~= nil or proctree.matches(p.binary, SERVICES)
end

local function on_exec(ev)
  if not SHELLS[proctree.basename(ev["process.binary"])] then return end
  local a = proctree.find(ev, network_facing, false, DEPTH)
  if a then
    local p = ev.process
    shells:set(p.exec_id, { exec_id = p.exec_id, shell = p.binary, service = a.binary,
                            service_id = a.exec_id })
  end
end

local function on_connect(ev)
  if shells:size() == 0 then return end   -- the common case: no shell under a service lately
  local p = ev.process
  local hit = shells:peek(p.exec_id)
  if not hit then
    local a = proctree.find(ev, function(q) return shells:peek(q.exec_id) ~= nil end)
    hit = a and shells:peek(a.exec_id)
  end
  if not hit then return end
  shells:delete(hit.exec_id)	-- one alert per shell
  local addr = event.arg(ev, "addr")
  alert{ fields = { service = hit.service, shell = hit.shell,
                    dest = addr and (tostring(addr.addr) .. ":" .. tostring(addr.port)) or "?" },
         exec_ids = { hit.exec_id, hit.service_id } }
end

return {
  name = "shell_from_service",
  desc = "A shell spawned by a network-facing service connects out within 10 s",
  priority = "critical",
  tags = { "MITRE:T1505.003", "MITRE:T1059.004", "MITRE:T1071", "webshell" },
  output = "Shell %{shell} spawned by network service %{service} connected to %{dest} " ..
           "(process %proc.exepath %proc.args, pid %proc.pid)",
  events = { "process_exec", "process_tracepoint" },
  hooks = { "sys_enter_listen", "sys_enter_connect" },
  on_event = function(ev, kind, hook)
    if kind == "process_exec" then
      on_exec(ev)
    elseif hook == "sys_enter_listen" then
      listeners:set(ev["process.exec_id"], ev["process.binary"])
    elseif hook == "sys_enter_connect" then
      on_connect(ev)
    end
  end,
}
