"""Host lane: the agent's capabilities after start-up.

Once bpffs and tracefs are mounted the agent keeps CAP_SYS_ADMIN, CAP_SYS_PTRACE and
CAP_KILL and CAP_DAC_READ_SEARCH only, in the permitted, effective and bounding sets of every thread (inheritable
and ambient empty) with no_new_privs set; the README's "Privileges" section documents the
same set. Then every run-time operation still works with that set: adding a policy on each
mechanism this kernel offers (tp_btf, raw_syscalls, classic tracepoint, uprobe, cgroup
connect), each enforcing or reporting for real, a Lua rule's kill() of a process of
another user, and a "files" list value under another user's 0700 directory.
"""
import errno
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

MARKER = os.path.join(vh.PROGS, "marker")
UPROBE = os.path.join(vh.PROGS, "uprobe_target")
USER = "vigilcap"
# CAP_DAC_READ_SEARCH (2), CAP_KILL (5), CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21)
KEPT = (1 << 2) | (1 << 5) | (1 << 19) | (1 << 21)
DENY_EXEC = os.path.join(os.environ.get("VIGIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                         "rules", "policies", "lua-deny-exec.yaml")


def policy(name, body):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
        """) % name + textwrap.indent(textwrap.dedent(body), "  ")


def caps_of(pid):
    """{tid: {field: value}} for CapInh/CapPrm/CapEff/CapBnd/CapAmb/NoNewPrivs of every thread."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            fields = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        out[int(tid)] = {k: int(fields[k].strip(), 16 if k.startswith("Cap") else 10)
                         for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs")}
    return out


def run(*argv, **kw):
    return subprocess.run(list(argv), capture_output=True, text=True, **kw)


@vh.require_root
class Privileges(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = t = tempfile.mkdtemp(prefix="vigil-cap-")
        os.chmod(t, 0o755)
        subprocess.run(["useradd", "-M", "-s", "/bin/sh", USER], capture_output=True)
        cls.uid = pwd.getpwnam(USER).pw_uid
        cls.miner = os.path.join(t, "miner")
        shutil.copy(MARKER, cls.miner)
        # a user's private directory (Debian 12's home mode) holding a file to deny
        cls.home = os.path.join(t, "home")
        os.mkdir(cls.home, 0o700)
        cls.private = os.path.join(cls.home, "miner")
        shutil.copy(MARKER, cls.private)
        os.chmod(cls.private, 0o755)
        os.chown(cls.home, cls.uid, cls.uid)
        os.chown(cls.private, cls.uid, cls.uid)
        cls.victim = os.path.join(t, "victim")
        shutil.copy(shutil.which("sleep"), cls.victim)
        os.chmod(cls.victim, 0o755)
        rules = os.path.join(t, "rules")
        os.mkdir(rules)
        with open(os.path.join(rules, "kill_victim.lua"), "w") as f:
            f.write(vh.kill_rule("kill_victim", "kill() of the victim, whoever runs it", "victim %proc.pid killed",
                                 cls.victim))
        files = {
            "tp_btf": vh.exec_policy("cap-tp-btf", cls.miner, "action: Sigkill"),
            "raw_syscalls": policy("cap-raw-syscalls", """\
                kprobes:
                - call: "sys_mkdir"
                  syscall: true
                  args:
                  - index: 0
                    type: "string"
                  selectors:
                  - matchArgs:
                    - index: 0
                      operator: "Prefix"
                      values: ["%s/deny-"]
                    matchActions:
                    - action: Sigkill
                """ % t),
            "tracepoint": policy("cap-tracepoint", """\
                tracepoints:
                - subsystem: "syscalls"
                  event: "sys_enter_mkdir"
                  args:
                  - index: 4
                    type: "int"
                    label: "nr"
                """),
            "uprobe": policy("cap-uprobe", """\
                uprobes:
                - path: "%s"
                  symbols: ["vigil_uprobe_target"]
                  args:
                  - index: 0
                    type: "int"
                """ % UPROBE),
            "files": open(DENY_EXEC).read(),
            "cgroup": policy("cap-cgroup-connect", """\
                kprobes:
                - call: "sys_connect"
                  syscall: true
                  args:
                  - index: 1
                    type: "sockaddr"
                  selectors:
                  - matchArgs:
                    - index: 1
                      operator: "SAddr"
                      values: ["127.0.0.3/32"]
                    matchActions:
                    - action: Override
                      argError: -1
                """),
        }
        cls.added = {}
        with vh.Agent("--rules-dir", rules, outputs=("json",)) as agent:
            cls.pid = agent.proc.pid
            cls.caps = caps_of(agent.proc.pid)
            for kind, text in files.items():
                path = os.path.join(t, kind + ".yaml")
                with open(path, "w") as f:
                    f.write(text)
                cls.added[kind] = run(vh.VIGIL, "tp", "add", path, "--control", agent.control)
            cls.policies = {p["name"]: p for p in agent.status()["policies"]}
            cls.caps_after = caps_of(agent.proc.pid)
            m = os.path.join(t, "miner.marker")
            cls.rc_miner = run(cls.miner, m).returncode
            cls.miner_ran = os.path.exists(m)
            mk = [sys.executable, "-c", "import os, sys; os.mkdir(sys.argv[1])"]
            cls.rc_mkdir_deny = run(*mk, os.path.join(t, "deny-x")).returncode
            cls.mkdir_ok = run(*mk, os.path.join(t, "ok-x"))
            cls.rc_uprobe = run(UPROBE, "7", "capcheck").returncode
            cls.connect = vh.connect_errno(("127.0.0.3", 9), timeout=2)
            # another user's process: kill() needs CAP_KILL
            cls.victim_run = run("setpriv", "--reuid", str(cls.uid), "--regid", str(cls.uid), "--clear-groups",
                                 cls.victim, "20", timeout=30)
            cls.add_value = run(vh.VIGIL, "tp", "add-value", "lua-denied-binaries", cls.private,
                                "--control", agent.control)
            m = os.path.join("/tmp", "vigil-cap-private-%d.marker" % os.getpid())
            cls.private_run = run("setpriv", "--reuid", str(cls.uid), "--regid", str(cls.uid), "--clear-groups",
                                  cls.private, m).returncode
            cls.private_ran = os.path.exists(m)
            if cls.private_ran:
                os.unlink(m)
            cls.events = agent.events("json")
        with vh.Agent("--no-cap-drop") as agent:
            cls.caps_nodrop = caps_of(agent.proc.pid)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["userdel", USER], capture_output=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_every_thread_keeps_exactly_the_documented_set(self):
        self.assertGreater(len(self.caps), 1, "one thread: the threads were not checked")
        for caps in (self.caps, self.caps_after):
            for tid, c in caps.items():
                self.assertEqual(c, {"CapInh": 0, "CapPrm": KEPT, "CapEff": KEPT, "CapBnd": KEPT, "CapAmb": 0,
                                     "NoNewPrivs": 1}, "thread %d" % tid)

    def test_no_cap_drop_keeps_everything(self):
        leader = self.caps_nodrop[min(self.caps_nodrop)]
        self.assertNotEqual(leader["CapEff"], KEPT)
        self.assertEqual(leader["CapEff"] & KEPT, KEPT)
        self.assertEqual(leader["NoNewPrivs"], 0)

    def test_policy_add_works_on_every_mechanism(self):
        for kind, r in self.added.items():
            self.assertEqual(r.returncode, 0, "%s: %s" % (kind, r.stderr))
        mechs = {}
        for p in self.policies.values():
            for h in p["hooks"]:
                self.assertTrue(h["attached"], h)
                mechs[p["name"]] = h["mechanism"]
        # raw tracepoints' hooks may share one program per tracepoint (bpf/tpchain.h)
        for name in ("lua-deny-exec", "cap-tp-btf"):
            self.assertTrue(mechs.pop(name).startswith("tp_btf"), name)
        self.assertEqual(mechs, {
            "cap-raw-syscalls": "raw_syscalls dispatcher (raw_tp, tail call by syscall number)",
            # __syscall_nr is no register: the classic tracepoint stays
            "cap-tracepoint": "tracepoint",
            "cap-uprobe": "uprobe",
            "cap-cgroup-connect": "cgroup connect4/connect6",
        })

    def test_policies_added_after_the_drop_enforce(self):
        self.assertEqual((self.rc_miner, self.miner_ran), (-9, False))
        self.assertEqual(self.rc_mkdir_deny, -9)
        self.assertEqual(self.mkdir_ok.returncode, 0, self.mkdir_ok.stderr)
        self.assertEqual(self.connect, errno.EPERM)

    def test_policies_added_after_the_drop_report(self):
        tps = [e["process_tracepoint"] for e in self.events if "process_tracepoint" in e
               and e["process_tracepoint"]["policy_name"] == "cap-tracepoint"
               and e["process_tracepoint"]["process"]["binary"] == os.path.realpath(sys.executable)]
        self.assertGreaterEqual(len(tps), 2)  # the two mkdir calls
        self.assertEqual(self.rc_uprobe, 0)
        ups = [e for e in self.events if "process_uprobe" in e or
               any(k in e and e[k].get("policy_name") == "cap-uprobe" for k in ("process_kprobe", "process_tracepoint"))]
        self.assertEqual(len(ups), 1, ups)

    def test_files_list_value_in_another_users_private_dir(self):
        self.assertEqual(self.add_value.returncode, 0, self.add_value.stderr)
        self.assertEqual((self.private_run, self.private_ran), (-9, False))

    def test_lua_kill_reaches_another_users_process(self):
        self.assertEqual(self.victim_run.returncode, -9, self.victim_run.stderr)
        acts = [e for e in self.events if "rule_action" in str(list(e.keys()))]
        self.assertTrue(acts, "no rule action event")
        self.assertNotIn("error", str(acts))


if __name__ == "__main__":
    vh.main()
