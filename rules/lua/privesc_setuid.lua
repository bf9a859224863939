-- privesc_setuid: a non-root user runs a setuid-root binary, and within 10 s that process
-- (after an exec) or one of its descendants runs as real uid 0 with CAP_SYS_ADMIN: the
-- privileges the setuid bit lent were made permanent, as an exploit or a planted SUID shell
-- does (setuid(0); execve("/bin/sh")).
--
-- Only exec events are needed (their credentials and capabilities are the new image's).
-- The setuid helpers that exist to change users are left out: their escalation is their
-- purpose and is audited elsewhere (sudo logs, PAM).
local sequence = require "vigil.sequence"
local proctree = require "vigil.proctree"

local WITHIN = 10
local HELPERS = { "sudo", "su", "pkexec", "doas", "newgrp", "sg", "passwd", "chsh", "chfn", "gpasswd",
                  "mount", "umount", "fusermount", "fusermount3", "ntfs-3g", "unix_chkpwd", "ssh-keysign",
                  "Xorg.wrap", "polkit-agent-helper-1", "dbus-daemon-launch-helper" }

local seq = sequence.new{ within = WITHIN, by = "tree" }

local function has_cap(ev, cap)
  local eff = ev["process.cap.effective"]
  if eff == nil then return false end
  for i = 1, #eff do
    if eff[i] == cap then return true end
  end
  return false
end

return {
  name = "privesc_setuid",
  desc = "A setuid-root exec by a non-root user is followed by a full-root process in its tree",
  priority = "critical",
  tags = { "MITRE:T1548.001", "MITRE:T1068", "privilege-escalation" },
  output = "Privilege escalation: uid %{uid} ran setuid %{setuid}, then %proc.exepath %proc.args " ..
           "runs as uid 0 with CAP_SYS_ADMIN (pid %proc.pid, parent %proc.pname)",
  events = { "process_exec" },
  on_event = function(ev)
    -- by path: no view of the process or its credentials is made for the usual exec
    local uid, euid = ev["process.uid"], ev["process.process_credentials.euid"]
    -- step A: the setuid bit made a non-root user's process root
    if euid == 0 and uid ~= 0 then
      local binary = ev["process.binary"]
      if not proctree.matches(binary, HELPERS) then
        seq:first(ev, { uid = uid, setuid = binary })
      end
      return
    end
    -- step B: real uid 0 with CAP_SYS_ADMIN, in A's process or below it; only while an A
    -- is pending (rarely): root's execs are most execs, and their 41 capabilities the
    -- dearest read of the event
    if uid == 0 and seq:size() > 0 and has_cap(ev, "CAP_SYS_ADMIN") then
      local a = seq:match(ev)
      if a then
        seq:forget(a)
        alert{ fields = a.data, exec_ids = { a.exec_id } }
      end
    end
  end,
}
