"""Host lane: the small holes of issue 12, each attacked by a real unprivileged user.

- Control socket: the agent judges every request by the peer's kernel credentials
  (SO_PEERCRED): root may do everything, a --control-group member only read-only commands,
  anyone else nothing, even through a socket whose mode was loosened; refusals are counted.
  A socket directory someone else owns or can write makes the agent refuse to start; a
  tcp:// control socket binds loopback only and is read-only.
- health_check: only the real vigil client run by root with `status` (and its children) is
  hidden from the export; a user's binary named vigil, the real client run by a user, and a
  look-alike run by root are all exported.
- arguments: argv ["\"-rf", "/\""] and ["-rf", "/"] read differently in the export.
- metrics: binary labels are "hidden" when /metrics listens beyond loopback.
"""
import grp
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

USER = "vigilholes"          # no special rights
MEMBER = "vigilholesg"       # in GROUP
GROUP = "vigilholesctl"
TRUE = os.path.realpath("/bin/true")
SH = os.path.realpath("/bin/sh")

POLICY = textwrap.dedent("""\
    apiVersion: cilium.io/v1alpha1
    kind: TracingPolicy
    metadata:
      name: %s
    spec:
      tracepoints:
      - subsystem: "sched"
        event: "sched_process_exec"
        raw: true
    """)


def as_user(name, argv, **kw):
    """argv run as name: its uid, its primary group and its supplementary groups only."""
    pw = pwd.getpwnam(name)
    groups = ",".join(str(g) for g in os.getgrouplist(name, pw.pw_gid))
    return subprocess.run(["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                           "--groups=" + groups, "--"] + argv, capture_output=True, text=True, timeout=60, **kw)



@vh.require_root
class Users(unittest.TestCase):
    """Creates the unprivileged users once for the module's tests and removes them after."""

    @classmethod
    def remove_users(cls):
        for u in (USER, MEMBER):
            subprocess.run(["userdel", u], capture_output=True)
        subprocess.run(["groupdel", GROUP], capture_output=True)

    @classmethod
    def setUpClass(cls):
        cls.remove_users()    # left by an interrupted run
        subprocess.run(["groupadd", GROUP], check=True)
        subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", USER], check=True)
        subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-G", GROUP, MEMBER], check=True)
        cls.tmp = tempfile.mkdtemp(prefix="vigil-holes-")
        os.chmod(cls.tmp, 0o755)

    @classmethod
    def tearDownClass(cls):
        cls.remove_users()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def agent(self, *args, **kw):
        """An agent whose socket directory others may enter (root's, 0755), as a real
        /run/vigil is."""
        a = vh.Agent(*args, **kw)
        os.chmod(a.dir, 0o755)
        return a


class ControlSocket(Users):
    def policy_file(self, name):
        path = os.path.join(self.tmp, name + ".yaml")
        with open(path, "w") as f:
            f.write(POLICY % name)
        os.chmod(path, 0o644)
        return path

    def attempts(self, who, agent, policy_file):
        """Every command that changes the agent, as who; their results."""
        c = ["--control", agent.control]
        cmds = [["tracingpolicy", "add", policy_file], ["tracingpolicy", "delete", "holes-watch"],
                ["tracingpolicy", "disable", "holes-watch"], ["tracingpolicy", "set-mode", "holes-watch", "monitor"],
                ["rules", "reload"]]
        return [as_user(who, [vh.VIGIL] + cmd + c) for cmd in cmds]

    def policies(self, agent):
        return {p["name"]: p for p in agent.status()["policies"]}

    def test_socket_is_root_only_by_default_so_a_user_cannot_even_connect(self):
        with self.agent("--tracing-policy", self.policy_file("holes-watch")) as a:
            st = os.stat(a.control[len("ipc://"):])
            self.assertEqual((st.st_mode & 0o777, st.st_uid, st.st_gid), (0o600, 0, 0))
            r = as_user(USER, [vh.VIGIL, "status", "--control", a.control])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("Permission denied", r.stderr)

    def test_a_user_cannot_change_policies_even_through_a_loosened_socket(self):
        """The mode is only the first gate: with it loosened (0666), the peer's credentials
        still refuse every command, read-only ones included, and count the refusals."""
        with self.agent("--tracing-policy", self.policy_file("holes-watch")) as a:
            os.chmod(a.control[len("ipc://"):], 0o666)
            status = as_user(USER, [vh.VIGIL, "status", "--control", a.control])
            self.assertNotEqual(status.returncode, 0)
            self.assertIn("permission denied: uid %d is not root" % pwd.getpwnam(USER).pw_uid, status.stderr)
            for r in self.attempts(USER, a, self.policy_file("holes-extra")):
                self.assertNotEqual(r.returncode, 0, r.stdout)
                self.assertIn("permission denied", r.stderr)
            pols = self.policies(a)
            self.assertEqual(set(pols), {"holes-watch"})
            self.assertEqual(pols["holes-watch"]["state"], "enabled")
            self.assertEqual(pols["holes-watch"]["mode"], "enforce")
            self.assertEqual(a.status()["counters"]["control_refused"], 6)

    def test_a_control_group_member_reads_but_cannot_change_anything(self):
        with self.agent("--tracing-policy", self.policy_file("holes-watch"), "--control-group", GROUP) as a:
            path = a.control[len("ipc://"):]
            st = os.stat(path)
            self.assertEqual((st.st_mode & 0o777, st.st_uid, st.st_gid), (0o660, 0, grp.getgrnam(GROUP).gr_gid))
            status = as_user(MEMBER, [vh.VIGIL, "status", "--control", a.control, "-o", "json"])
            self.assertEqual(status.returncode, 0, status.stderr)
            self.assertEqual([p["name"] for p in json.loads(status.stdout)["policies"]], ["holes-watch"])
            lst = as_user(MEMBER, [vh.VIGIL, "tracingpolicy", "list", "--control", a.control])
            self.assertEqual(lst.returncode, 0, lst.stderr)
            self.assertIn("holes-watch", lst.stdout)
            for r in self.attempts(MEMBER, a, self.policy_file("holes-extra")):
                self.assertNotEqual(r.returncode, 0, r.stdout)
                self.assertIn("needs root", r.stderr)
            # a non-member, the mode loosened: refused by credentials
            os.chmod(path, 0o666)
            other = as_user(USER, [vh.VIGIL, "status", "--control", a.control])
            self.assertIn("is not root nor in the control group", other.stderr)
            pols = self.policies(a)
            self.assertEqual(set(pols), {"holes-watch"})
            self.assertEqual(pols["holes-watch"]["state"], "enabled")
            self.assertEqual(a.status()["counters"]["control_refused"], 6)
            # root still does everything
            add = subprocess.run([vh.VIGIL, "tracingpolicy", "add", self.policy_file("holes-extra"),
                                  "--control", a.control], capture_output=True, text=True)
            self.assertEqual(add.returncode, 0, add.stderr)
            dis = subprocess.run([vh.VIGIL, "tracingpolicy", "disable", "holes-watch", "--control", a.control],
                                 capture_output=True, text=True)
            self.assertEqual(dis.returncode, 0, dis.stderr)
            pols = self.policies(a)
            self.assertEqual(set(pols), {"holes-watch", "holes-extra"})
            self.assertEqual(pols["holes-watch"]["state"], "disabled")

    def start_fails(self, control, bus=None):
        """vigild started on these sockets: its exit code and log (it must stop by itself)."""
        d = tempfile.mkdtemp(prefix="vigil-holes-bus-")
        try:
            r = subprocess.run([vh.VIGILD, "--bus", bus or "ipc://" + os.path.join(d, "events.sock"),
                                "--control", control, "--tracing-policy-dir", "", "--rules-dir", ""],
                               capture_output=True, text=True, timeout=60)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        return r.returncode, r.stderr

    def test_an_attacker_owned_socket_directory_makes_the_agent_refuse(self):
        evil = os.path.join(self.tmp, "evil")
        os.mkdir(evil)
        os.chown(evil, pwd.getpwnam(USER).pw_uid, 0)
        rc, log = self.start_fails("ipc://" + os.path.join(evil, "control.sock"))
        self.assertNotEqual(rc, 0)
        self.assertIn("refusing socket directory %s" % evil, log)
        self.assertFalse(os.path.exists(os.path.join(evil, "control.sock")))
        # through a symlink to it, and on the event bus too
        link = os.path.join(self.tmp, "link")
        os.symlink(evil, link)
        rc, log = self.start_fails("ipc://" + os.path.join(link, "control.sock"))
        self.assertNotEqual(rc, 0)
        self.assertIn("refusing socket directory %s" % evil, log)
        rc, log = self.start_fails("ipc://" + os.path.join(self.tmp, "ok", "control.sock"),
                                   bus="ipc://" + os.path.join(evil, "events.sock"))
        self.assertNotEqual(rc, 0)
        self.assertIn("refusing socket directory %s" % evil, log)
        # root's, but writable by a group
        shared = os.path.join(self.tmp, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o775)
        rc, log = self.start_fails("ipc://" + os.path.join(shared, "control.sock"))
        self.assertNotEqual(rc, 0)
        self.assertIn("refusing socket directory %s" % shared, log)

    def test_tcp_control_binds_loopback_only_and_is_read_only(self):
        rc, log = self.start_fails("tcp://0.0.0.0:%d" % vh.free_port())
        self.assertNotEqual(rc, 0)
        self.assertIn("must bind 127.x.x.x", log)
        a = self.agent("--tracing-policy", self.policy_file("holes-watch"))
        a.control = "tcp://127.0.0.1:%d" % vh.free_port()
        with a:
            add = subprocess.run([vh.VIGIL, "tracingpolicy", "add", self.policy_file("holes-extra"),
                                  "--control", a.control], capture_output=True, text=True)
            self.assertNotEqual(add.returncode, 0)
            self.assertIn("tcp:// is read-only", add.stderr)
            self.assertEqual(set(self.policies(a)), {"holes-watch"})


class HealthCheck(Users):
    """--export-denylist '{"health_check":true}': what the export file keeps."""

    def test_only_the_real_client_run_by_root_is_hidden(self):
        tmp = self.tmp
        fake_dir = os.path.join(tmp, "fake")
        os.mkdir(fake_dir)
        fake = os.path.join(fake_dir, "vigil")         # /bin/sh named vigil, the user's own
        shutil.copy(SH, fake)
        child = os.path.join(fake_dir, "hc-child")     # what the look-alike runs
        shutil.copy(TRUE, child)
        with open(os.path.join(fake_dir, "status"), "w") as f:   # `sh status` runs ./status
            f.write(child + " from-fake\n")
        uid = pwd.getpwnam(USER).pw_uid
        for p in (fake_dir, fake, child, os.path.join(fake_dir, "status")):
            os.chown(p, uid, 0)
            os.chmod(p, 0o755)
        export = os.path.join(tmp, "hc-export.json")
        with self.agent("--export-file", export, "--export-denylist", '{"health_check":true}') as a:
            client = os.path.realpath(vh.VIGIL)
            subprocess.run([client, "status", "--control", a.control], capture_output=True, check=True)
            subprocess.run([client, "version"], capture_output=True, check=True)     # root, not a probe
            r = as_user(USER, [fake, "status"], cwd=fake_dir)
            self.assertEqual(r.returncode, 0, r.stderr)
            subprocess.run([fake, "status"], cwd=fake_dir, check=True)      # root runs the look-alike
            as_user(USER, [client, "status", "--control", a.control])     # refused: not root
            time.sleep(1)
            bus = [e["process_exec"] for e in a.events() if "process_exec" in e]
        # the bus is not filtered: root's probes happened and were seen
        self.assertGreater(len([e for e in bus if e["process"].get("binary") == os.path.realpath(vh.VIGIL) and
                                e["process"]["uid"] == 0 and e["process"].get("arguments", "").startswith("status")]), 0)
        with open(export) as f:
            execs = [json.loads(l)["process_exec"] for l in f if '"process_exec"' in l]

        def runs(binary, uid_):
            return [e for e in execs if e["process"].get("binary") == binary and e["process"]["uid"] == uid_
                    and e["process"].get("arguments", "").startswith("status")]

        self.assertEqual(runs(client, 0), [], "root's real `vigil status` must be hidden")
        self.assertEqual(len([e for e in execs if e["process"].get("binary") == client and e["process"]["uid"] == 0
                              and e["process"].get("arguments") == "version"]), 1,
                         "root's `vigil version` (no probe) is exported")
        self.assertEqual(len(runs(client, uid)), 1, "a user running the client is no probe")
        self.assertEqual(len(runs(fake, uid)), 1, "a user's binary named vigil is no probe")
        self.assertEqual(len(runs(fake, 0)), 1, "a look-alike is no probe, even run by root")
        kids = [e for e in execs if e["process"].get("binary") == child]
        self.assertEqual(len(kids), 2, "the look-alike's children are exported")
        self.assertTrue(all(k["parent"]["binary"] == fake for k in kids))


class Arguments(Users):
    def test_quotes_inside_arguments_do_not_read_as_argument_boundaries(self):
        with self.agent() as a:
            marker = os.path.join(a.dir, "holes-args")
            shutil.copy(TRUE, marker)
            subprocess.run([marker, '"-rf', '/"'], check=True)
            subprocess.run([marker, "-rf", "/"], check=True)
            subprocess.run([marker, "a\\b"], check=True)
            evs = a.events()
        args = [e["process_exec"]["process"].get("arguments") for e in evs
                if "process_exec" in e and e["process_exec"]["process"].get("binary") == marker]
        self.assertEqual(args, ['"\\"-rf" "/\\""', "-rf /", '"a\\\\b"'])


class Metrics(Users):
    def scrape(self, port):
        r = subprocess.run(["curl", "-s", "--max-time", "10", "http://127.0.0.1:%d/metrics" % port],
                           capture_output=True, text=True, check=True)
        return r.stdout

    def run_marker(self, a):
        marker = os.path.join(a.dir, "holes-metrics-marker")
        shutil.copy(TRUE, marker)
        subprocess.run([marker], check=True)
        time.sleep(1)
        return marker

    def test_binary_labels_are_hidden_on_a_non_loopback_endpoint_unless_asked(self):
        port = vh.free_port()
        with self.agent("--metrics-server", "0.0.0.0:%d" % port) as a:
            marker = self.run_marker(a)
            text = self.scrape(port)
            self.assertNotIn(marker, text)
            self.assertIn('binary="hidden"', text)
            self.assertNotIn('binary="/', text)
        port = vh.free_port()
        with self.agent("--metrics-server", "0.0.0.0:%d" % port, "--metrics-binary-labels", "on") as a:
            marker = self.run_marker(a)
            self.assertIn('binary="%s"' % marker, self.scrape(port))
        port = vh.free_port()
        with self.agent("--metrics-server", "127.0.0.1:%d" % port) as a:
            marker = self.run_marker(a)
            text = self.scrape(port)
            self.assertIn('binary="%s"' % marker, text)
            self.assertNotIn('binary="hidden"', text)


if __name__ == "__main__":
    vh.main()
