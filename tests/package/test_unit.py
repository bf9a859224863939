"""Package lane: the systemd units' privileges and sandbox, measured.

- vigild.service's CapabilityBoundingSet= is exactly what the agent keeps after its own drop
  (read from a running agent started with every capability and --control-group), and that
  set is enough to start with every shipped policy and Lua rule loaded, inside the unit's
  bounding set with no_new_privs; without CAP_SYS_ADMIN the start fails, so it stays.
- `systemd-analyze security --offline=yes` scores each installed unit no worse than the
  README says (a change that loosens a unit fails here).
No systemd is needed: the units are read from a staged `cmake --install`.
"""
import glob
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "host"))
import vigilhost as vh  # noqa: E402

SOURCE = os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
UNIT = os.path.join(SOURCE, "integrations", "systemd", "vigild.service")
# the README's "Install" section quotes these scores
EXPOSURE = {"vigild.service": 3.5, "vigil-forward.service": 1.6, "vigil-osquery.service": 1.1}
CAPS = ["chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
        "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
        "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
        "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
        "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
        "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore"]


def unit_caps():
    with open(UNIT) as f:
        line = re.search(r"^CapabilityBoundingSet=(.*)$", f.read(), re.M).group(1)
    return sorted(c.lower()[4:] for c in line.split())


def cap_names(mask):
    return sorted(CAPS[i] for i in range(len(CAPS)) if mask >> i & 1)


def unit_nofile():
    with open(UNIT) as f:
        return int(re.search(r"^LimitNOFILE=(\d+)$", f.read(), re.M).group(1))


def run_nofile():
    """The unit's LimitNOFILE as soft and hard limit, or this process's hard limit where that
    is lower: raising a hard limit takes CAP_SYS_RESOURCE, which a sandbox may not grant."""
    return min(unit_nofile(), resource.getrlimit(resource.RLIMIT_NOFILE)[1])


def agent(tmp, bounding, *extra):
    """Start the build-tree vigild like the unit (shipped policies and rules, monitor) inside
    a bounding set and its open-files limit; return (process, status or None, log)."""
    bus, ctl = "ipc://%s/e.sock" % tmp, "ipc://%s/c.sock" % tmp
    wrap = ["prlimit", "--nofile=%d:%d" % (run_nofile(), run_nofile()),
            "setpriv", "--no-new-privs", "--bounding-set", ",".join(["-all"] + ["+" + c for c in bounding])]
    log = open(os.path.join(tmp, "log"), "w")
    p = subprocess.Popen(wrap + [vh.VIGILD, "--bus", bus, "--control", ctl, "--default-policy-mode", "monitor",
                                 "--tracing-policy-dir", os.path.join(SOURCE, "rules", "policies"),
                                 "--rules-dir", os.path.join(SOURCE, "rules", "lua")] + list(extra),
                         stdout=log, stderr=subprocess.STDOUT)
    status = None
    deadline = time.time() + 60
    while time.time() < deadline and p.poll() is None:
        r = subprocess.run([vh.VIGIL, "status", "--control", ctl, "-o", "json"], capture_output=True, text=True)
        if r.returncode == 0:
            status = json.loads(r.stdout)
            r = subprocess.run([vh.VIGIL, "rules", "list", "--control", ctl, "-o", "json"],
                               capture_output=True, text=True, check=True)
            status["rules"] = json.loads(r.stdout)
            break
        time.sleep(0.2)
    log.close()
    with open(log.name) as f:
        return p, status, f.read()


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


@vh.require_root
class UnitPrivileges(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vigil-unit-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_bounding_set_is_what_the_agent_keeps(self):
        p, status, log = agent(self.tmp, ["all"], "--control-group", "root")
        try:
            self.assertIsNotNone(status, log)
            with open("/proc/%d/status" % p.pid) as f:
                prm = int(re.search(r"^CapPrm:\s*([0-9a-f]+)$", f.read(), re.M).group(1), 16)
        finally:
            self.assertEqual(stop(p), 0, log)
        self.assertEqual(unit_caps(), cap_names(prm))

    def test_unit_set_starts_every_shipped_policy_and_rule(self):
        p, status, log = agent(self.tmp, unit_caps())
        try:
            self.assertIsNotNone(status, log)
            want = len(glob.glob(os.path.join(SOURCE, "rules", "policies", "*.yaml")))
            self.assertEqual([q["state"] for q in status["policies"]], ["enabled"] * want, log)
            self.assertEqual(len(status["rules"]), len(glob.glob(os.path.join(SOURCE, "rules", "lua", "*.lua"))))
            # the unit's LimitNOFILE is what the agent runs with, and leaves the room the unit's
            # comment claims: ~3,000 hooks of ~20 descriptors beyond the shipped set
            with open("/proc/%d/limits" % p.pid) as f:
                soft, hard = re.search(r"^Max open files\s+(\d+)\s+(\d+)", f.read(), re.M).groups()
            self.assertEqual((int(soft), int(hard)), (run_nofile(), run_nofile()))
            fds = len(os.listdir("/proc/%d/fd" % p.pid))
            self.assertLessEqual(fds + 3000 * 20, unit_nofile(), "%d descriptors" % fds)
        finally:
            self.assertEqual(stop(p), 0, log)

    def test_without_sys_admin_the_start_fails(self):
        p, status, log = agent(self.tmp, [c for c in unit_caps() if c != "sys_admin"])
        stop(p)
        self.assertIsNone(status)
        self.assertEqual(p.returncode, 1, log)
        self.assertIn("Operation not permitted", log)


class UnitSandbox(unittest.TestCase):
    def test_exposure_scores(self):
        stage = tempfile.mkdtemp(prefix="vigil-stage-")
        self.addCleanup(shutil.rmtree, stage, True)
        subprocess.run(["cmake", "--install", vh.BUILD], env=dict(os.environ, DESTDIR=stage),
                       capture_output=True, check=True)
        for unit, most in EXPOSURE.items():
            path = glob.glob(os.path.join(stage, "**", "systemd", "system", unit), recursive=True)
            self.assertEqual(len(path), 1, unit)
            r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--root=" + stage, path[0]],
                               capture_output=True, text=True)
            m = re.search(r"Overall exposure level for %s: ([0-9.]+)" % re.escape(unit), r.stdout)
            self.assertIsNotNone(m, r.stdout + r.stderr)
            self.assertLessEqual(float(m.group(1)), most, unit)


if __name__ == "__main__":
    vh.main()
