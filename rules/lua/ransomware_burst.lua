-- ransomware_burst: one process giving many files the same new extension within 10 s, by
-- renaming them (report.pdf -> report.pdf.locked) or writing encrypted copies beside them
-- (report.pdf.locked): what file-encrypting ransomware does, and what backup, rotation and
-- compression tools do with extensions that are excluded below.
--
-- Renames come from rules/policies/lua-files.yaml (all of them); writes only where that
-- policy sends them (staging directories and relative paths).
local lru = require "vigil.lru"
local window = require "vigil.window"
local event = require "vigil.event"
local proctree = require "vigil.proctree"

local SECONDS = 10
local THRESHOLD = 20
-- what tools legitimately append: backups, rotation, compression, editors, package managers
local BENIGN = { bak = true, old = true, orig = true, tmp = true, temp = true, swp = true, part = true,
                 gz = true, bz2 = true, xz = true, zst = true, lz4 = true, zip = true, ["dpkg-old"] = true,
                 ["dpkg-new"] = true, ["dpkg-dist"] = true, ["dpkg-tmp"] = true, rpmnew = true,
                 rpmsave = true, lock = true, new = true, save = true, backup = true }

local burst = window.new{ seconds = SECONDS, max_keys = 20000 }
local alerted = lru.new(10000, 60)	-- one alert per process and extension a minute

-- "x.pdf.locked" -> "locked" when the name carries two extensions
local function appended_ext(name)
  -- the two extensions are in the last component: most paths have fewer than two dots
  -- there, which a plain find says for much less than the pattern below
  local base = proctree.basename(name)
  local dot = base:find(".", 1, true)
  if not dot or not base:find(".", dot + 1, true) then return nil end
  local ext = base:match("[^/]+%.[^./]+%.([%w_-]+)$")
  if ext and #ext <= 16 and not ext:match("^%d+$") and not BENIGN[ext:lower()] then return ext end
end

local function count(ev, ext, path)
  local key = ev["process.exec_id"] .. "|" .. ext
  local n = burst:add(key, 1, path)
  if n >= THRESHOLD and not alerted:peek(key) then
    alerted:set(key, true)
    local files = burst:values(key)
    alert{ fields = { n = n, ext = ext, seconds = SECONDS, first = files[1], last = files[#files] } }
  end
end

return {
  name = "ransomware_burst",
  desc = "One process renames or writes 20 files to the same new extension within 10 s",
  priority = "critical",
  tags = { "MITRE:T1486", "ransomware" },
  output = "Ransomware-like burst: %proc.exepath (pid %proc.pid) gave %{n} files the extension " ..
           ".%{ext} in %{seconds} s (%{first} ... %{last})",
  events = { "process_tracepoint" },
  hooks = { "sys_enter_openat", "sys_enter_rename", "sys_enter_renameat", "sys_enter_renameat2" },
  on_event = function(ev, kind, hook)
    local what = hook
    if what == "sys_enter_openat" then
      local path = event.arg(ev, "path")
      local ext = path and appended_ext(path)
      if ext then count(ev, ext, path) end
    elseif what == "sys_enter_rename" or what == "sys_enter_renameat" or what == "sys_enter_renameat2" then
      local old, new = event.arg(ev, "oldpath"), event.arg(ev, "newpath")
      if old and new and #new > #old + 1 and new:sub(1, #old + 1) == old .. "." then
        local ext = new:sub(#old + 2)
        if ext:match("^[%w_-]+$") and #ext <= 16 and not ext:match("^%d+$") and not BENIGN[ext:lower()] then
          count(ev, ext, new)
        end
      end
    end
  end,
}
