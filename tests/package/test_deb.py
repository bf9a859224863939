"""Package lane: the .deb installs, runs, observes by default, enforces when told, purges clean.

As root on a Debian 12 machine (CI: a fresh one): build vigil_<ver>_amd64.deb with CPack
from this build tree, `apt-get install ./vigil_*.deb`, check the maintainer scripts enabled
vigild without starting it, start /usr/sbin/vigild the way its installed unit does (through
systemd when PID 1 is systemd; otherwise the unit's ExecStart= run directly, inside the
unit's CapabilityBoundingSet= and NoNewPrivileges=), see an exec event through the installed
/usr/bin/vigil getevents, check that the shipped Sigkill policy only reports under the
unit's --default-policy-mode monitor and kills once the setting says enforce, stop it,
`apt-get purge vigil`, and check that nothing `dpkg -L vigil` listed is left. Whatever
fails, the package is purged and the agent stopped before the test ends.
"""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "host"))
import vigilhost as vh  # noqa: E402  (main: ctest's skip code)

BUILD = os.environ.get("VIGIL_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
UNIT = "/lib/systemd/system/vigild.service"
CONTROL = "/run/vigil/control.sock"
ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
# what the package's postinst/postrm manage outside its file list
STATE = ["/var/log/vigil", "/run/vigil", "/var/lib/vigil", "/sys/fs/bpf/vigil",
         "/etc/systemd/system/multi-user.target.wants/vigild.service",
         "/var/lib/systemd/deb-systemd-helper-enabled/vigild.service.dsh-also",
         "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/vigild.service",
         "/var/lib/systemd/deb-systemd-helper-masked/vigild.service",
         "/var/lib/systemd/deb-systemd-helper-masked/vigil-forward.service",
         "/var/lib/systemd/deb-systemd-helper-masked/vigil-osquery.service",
         "/etc/systemd/system/vigild.service", "/etc/systemd/system/vigil-forward.service",
         "/etc/systemd/system/vigil-osquery.service"]


# other work on the machine may hold dpkg's lock for a while: wait for it, never fail on it
APT = ["apt-get", "-y", "-o", "DPkg::Lock::Timeout=300"]


def run(*argv, check=False, **kw):
    return subprocess.run(list(argv), capture_output=True, text=True, env=ENV, check=check, **kw)


def installed():
    r = run("dpkg-query", "-W", "-f=${Status}", "vigil")
    return r.returncode == 0 and "installed" in r.stdout and "not-installed" not in r.stdout


def systemd_is_pid1():
    return os.path.isdir("/run/systemd/system")


def unit_values(path, key):
    """Every value of key= in the unit's [Service] section, continuation lines joined."""
    with open(path) as f:
        text = f.read().replace("\\\n", " ")
    return [m.group(1).strip() for m in re.finditer(r"^%s=(.*)$" % re.escape(key), text, re.M)]


def agent_pids():
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.readlink("/proc/%s/exe" % d) == "/usr/sbin/vigild":
                    pids.append(int(d))
            except OSError:
                pass
    return pids


class Deb(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            if os.environ.get("CI"):
                raise RuntimeError("package lane must run as root in CI")
            self.skipTest("installs a package: needs root")
        # this test purges the package and /run/vigil: never on a machine that uses them
        self.assertFalse(installed(), "vigil is installed on this machine; the test would purge it")
        self.assertFalse(os.path.exists(CONTROL) and
                         run(os.path.join(BUILD, "core", "cli", "vigil"), "status").returncode == 0,
                         "an agent already serves %s" % CONTROL)
        self.tmp = tempfile.mkdtemp(prefix="vigil-deb-")
        os.chmod(self.tmp, 0o755)
        self.agent = None
        self.existed_before = {p for p in STATE if os.path.lexists(p)}
        self.addCleanup(self.cleanup)

    def cleanup(self):
        try:
            self.stop_agent(check=False)
        finally:
            if installed():
                run(*APT, "purge", "vigil")
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- the agent, as its unit starts it ----
    def start_agent(self, mode):
        if systemd_is_pid1():
            if mode != "monitor":
                os.makedirs("/etc/systemd/system/vigild.service.d", exist_ok=True)
                with open("/etc/systemd/system/vigild.service.d/test-mode.conf", "w") as f:
                    f.write("[Service]\nExecStart=\nExecStart=%s\n" % self.exec_start.replace(
                        "--default-policy-mode monitor", "--default-policy-mode " + mode))
                run("systemctl", "daemon-reload", check=True)
            run("systemctl", "start", "vigild", check=True)
            self.agent = "systemd"
        else:
            argv = shlex.split(self.exec_start.replace("--default-policy-mode monitor",
                                                       "--default-policy-mode " + mode))
            caps = unit_values(UNIT, "CapabilityBoundingSet")[0].lower().split()
            # the unit's sandbox that matters without systemd: its bounding set and NNP
            wrap = ["setpriv", "--no-new-privs", "--bounding-set", ",".join(["-all"] + ["+" + c[4:] for c in caps])]
            os.makedirs("/var/log/vigil", mode=0o750, exist_ok=True)	# LogsDirectory=
            self.log = open(os.path.join(self.tmp, "vigild-%s.log" % mode), "w")
            self.agent = subprocess.Popen(wrap + argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.agent != "systemd" and self.agent.poll() is not None:
                self.fail("vigild exited: " + open(self.log.name).read())
            if run("/usr/bin/vigil", "status").returncode == 0:
                return
            time.sleep(0.2)
        self.fail("vigild not ready in 60 s")

    def stop_agent(self, check=True):
        if self.agent == "systemd":
            run("systemctl", "stop", "vigild")
            if os.path.exists("/etc/systemd/system/vigild.service.d/test-mode.conf"):
                os.unlink("/etc/systemd/system/vigild.service.d/test-mode.conf")
                os.rmdir("/etc/systemd/system/vigild.service.d")
                run("systemctl", "daemon-reload")
        elif self.agent is not None:
            if self.agent.poll() is None:
                self.agent.send_signal(signal.SIGTERM)
                try:
                    self.agent.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.agent.kill()
                    self.agent.wait()
            self.log.close()
            if check:
                with open(self.log.name) as f:
                    self.assertEqual(self.agent.returncode, 0, f.read())
        self.agent = None

    def session(self, mode, tag):
        """Agent in mode; a private binary is execed plainly, then once it is a denied binary."""
        self.start_agent(mode)
        plain = os.path.join(self.tmp, "plain-" + tag)
        denied = os.path.join(self.tmp, "denied-" + tag)
        for p in (plain, denied):
            shutil.copy("/bin/true", p)
        # into a file: a pipe nobody reads fills, and the bus drops what the subscriber lags by
        evpath = os.path.join(self.tmp, "events-%s.json" % tag)
        evfile = open(evpath, "w")
        sub = subprocess.Popen(["/usr/bin/vigil", "getevents", "-o", "json", "--timeout", "30"], stdout=evfile)
        time.sleep(0.5)		# subscribed within nanomsg's reconnect interval
        rc_plain = subprocess.run([plain]).returncode
        r = run("/usr/bin/vigil", "tp", "add-value", "denied-binaries", denied)
        self.assertEqual(r.returncode, 0, r.stderr)
        rc_denied = subprocess.run([denied]).returncode
        # an unprivileged user gets nothing from the installed agent: no control, no events,
        # no export file, no way to add a value
        nobody = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
        abuse = {	# what worked
            "status": run(*nobody, "/usr/bin/vigil", "status").returncode == 0,
            "add-value": run(*nobody, "/usr/bin/vigil", "tp", "add-value", "denied-binaries",
                             "/usr/bin/ls").returncode == 0,
            "getevents": run(*nobody, "/usr/bin/vigil", "getevents", "--count", "1", "--duration", "2s").stdout != "",
            "export": run(*nobody, "cat", "/var/log/vigil/events.json").returncode == 0,
        }
        policies = json.loads(run("/usr/bin/vigil", "tp", "list", "-o", "json", check=True).stdout)
        time.sleep(1.0)
        sub.send_signal(signal.SIGTERM)
        sub.wait(timeout=10)
        evfile.close()
        self.stop_agent()
        with open(evpath) as f:
            out = f.read()
        events = [json.loads(line) for line in out.splitlines() if line.strip()]
        execs = [e["process_exec"]["process"] for e in events if "process_exec" in e]
        kills = [e["process_tracepoint"] for e in events if "process_tracepoint" in e
                 and e["process_tracepoint"].get("policy_name") == "block-cryptominers"
                 and e["process_tracepoint"]["process"]["binary"] == denied]
        self.debug = "%d events, %d execs, last: %s" % (len(events), len(execs), [p["binary"] for p in execs][-5:])
        return dict(rc_plain=rc_plain, rc_denied=rc_denied, kills=kills, abuse=abuse,
                    exec_seen=any(p["binary"] == plain for p in execs),
                    modes={p["name"]: p["mode"] for p in policies["policies"]})

    def test_install_run_purge(self):
        # ---- build the package from this tree ----
        r = run("cpack", "-G", "DEB", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B", self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        debs = [f for f in os.listdir(self.tmp) if re.match(r"vigil_[0-9.]+_amd64\.deb$", f)]
        self.assertEqual(len(debs), 1, os.listdir(self.tmp))
        listing = run("dpkg-deb", "-c", os.path.join(self.tmp, debs[0]), check=True).stdout
        dirs_before = {"/" + line.split()[5].strip("./") for line in listing.splitlines()
                       if line.startswith("d") and os.path.isdir("/" + line.split()[5].strip("./"))}
        r = run(*APT, "install", "./" + debs[0], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        files = run("dpkg", "-L", "vigil", check=True).stdout.split()
        for path in ("/usr/sbin/vigild", "/usr/bin/vigil", "/usr/lib/vigil/vigil-forward",
                     "/usr/lib/vigil/vigil.ext", "/usr/lib/vigil/libvigil_falco.so", "/usr/lib/vigil/vigil-oci-hook",
                     "/usr/share/vigil/integrations/oci-hook/hooks.d-vigil.json",
                     "/etc/vigil/policies/block-cryptominers.yaml", UNIT):
            self.assertIn(path, files)

        # ---- every file root's and not writable by others ----
        for path in files:
            st = os.lstat(path)
            if path != "/." and not os.path.islink(path):
                self.assertEqual((st.st_uid, st.st_mode & 0o022 if os.path.isfile(path) else st.st_mode & 0o002),
                                 (0, 0), path)

        # ---- installed, enabled, not started; every binary finds the installed libvigil ----
        self.assertTrue(os.path.islink("/etc/systemd/system/multi-user.target.wants/vigild.service"))
        self.assertEqual(agent_pids(), [], "the package started vigild")
        for path in [f for f in files if f.startswith("/usr/lib/vigil/") or f in ("/usr/sbin/vigild", "/usr/bin/vigil")]:
            ldd = run("ldd", path, check=True).stdout
            self.assertNotIn("not found", ldd, path)
            self.assertRegex(ldd, r"libvigil\.so\.0 => (/usr)?/lib/x86_64-linux-gnu/libvigil\.so\.0", path)
            self.assertNotIn(os.path.realpath(BUILD), run("readelf", "-d", path).stdout, path)

        # ---- the installed plugins load and run ----
        for prog in ("/usr/lib/vigil/vigil-forward", "/usr/lib/vigil/vigil.ext", "/usr/lib/vigil/vigil-oci-hook"):
            r = run(prog, "--help")
            self.assertEqual(r.returncode, 0, prog + ": " + r.stderr)
        for lib in ("/usr/lib/vigil/libvigil_falco.so", "/usr/lib/vigil/libvigil_falco_legacy.so"):
            r = run(sys.executable, "-c", "import ctypes; f = ctypes.CDLL(%r).plugin_get_name; "
                    "f.restype = ctypes.c_char_p; print(f().decode())" % lib)
            self.assertEqual((r.returncode, r.stdout), (0, "vigil\n"), lib + ": " + r.stderr)

        # ---- a library user builds against the installed headers and vigil.pc ----
        src = os.path.join(self.tmp, "user.c")
        with open(src, "w") as f:
            f.write("".join('#include <%s/%s.h>\n' % (d, d) for d in (
                "agent", "bus", "common", "encode", "events", "export", "loader", "luahost",
                "metrics", "pcache", "policy", "sensors")) +
                "#include <stdio.h>\nint main(void) { puts(vigil_event_type_name(VIGIL_EVENT_EXEC)); return 0; }\n")
        flags = run("pkg-config", "--cflags", "--libs", "vigil", check=True).stdout.split()
        r = run("cc", "-Wall", "-Werror", src, "-o", os.path.join(self.tmp, "user"), *flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(run(os.path.join(self.tmp, "user"), check=True).stdout, "PROCESS_EXEC\n")

        # ---- the installed units: systemd-analyze verify finds nothing to say ----
        units = [UNIT, "/lib/systemd/system/vigil-forward.service", "/lib/systemd/system/vigil-osquery.service"]
        r = run("systemd-analyze", "verify", "--man=no", *units)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

        # ---- run as installed: observe only ----
        self.exec_start = unit_values(UNIT, "ExecStart")[0]
        self.assertIn("--default-policy-mode monitor", self.exec_start)
        seen = self.session("monitor", "m")
        self.assertTrue(seen["exec_seen"], "no exec event through /usr/bin/vigil getevents: " + self.debug)
        self.assertEqual(seen["rc_plain"], 0)
        self.assertEqual(seen["modes"]["block-cryptominers"], "TP_MODE_MONITOR")
        self.assertEqual(seen["rc_denied"], 0, "the installed default configuration killed")
        self.assertEqual([k.get("monitored") for k in seen["kills"]], [True], seen["kills"])
        self.assertEqual([k for k, worked in seen["abuse"].items() if worked], [], "an unprivileged user could")

        # ---- the setting flipped: the same shipped policy kills ----
        seen = self.session("enforce", "e")
        self.assertEqual(seen["modes"]["block-cryptominers"], "TP_MODE_ENFORCE")
        self.assertEqual(seen["rc_denied"], -9)
        self.assertEqual([k.get("monitored", False) for k in seen["kills"]], [False], seen["kills"])

        # ---- purge: nothing of the package is left ----
        os.makedirs("/var/lib/vigil/forward-spool", exist_ok=True)	# as vigil-forward's unit would
        r = run(*APT, "purge", "vigil")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(installed())
        left = [p for p in files if p != "/." and os.path.lexists(p) and not os.path.isdir(p)]
        self.assertEqual(left, [], "files of the package left after purge")
        # a directory may remain only when it was there before the installation
        dirs = [p for p in files if p != "/." and os.path.isdir(p) and p not in dirs_before]
        self.assertEqual(dirs, [], "directories the package created, left after purge")
        self.assertEqual([p for p in STATE if os.path.lexists(p) and p not in self.existed_before], [])


if __name__ == "__main__":
    vh.main()
