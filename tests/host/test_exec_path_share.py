"""Host lane: exec policies share one walk of the binary's path per exec (bpf/lib/exec_path.h).

The exec record's program and the policies on sched_process_exec leave the binary's path in
a per-CPU slot for the programs after them, keyed by task, thread, exec count and file. A
slot left by one exec must never answer for another: here two binaries, one inside a watched
prefix and its copy outside, are exec'd alternately 200 times each on one CPU (the slot is
per CPU), by one process and by its children, with three exec policies loaded (the shipped
pair that reads the path, plus one watching the copy's name with Postfix). Every event must
name the binary that ran, and each policy must see exactly its own execs. (The exec record's
program fills the slot first on every exec, so a stale slot, which the key guards against
when that program could not walk, is not reached here.)

ExecChain: the hooks of one raw tracepoint are one program (bpf/tpchain.h), each hook a tail
call that may take the previous hook's capture. As a real unprivileged user: one policy's
Sigkill hits only its binary (the other policies' binaries run to completion), a policy that
declares other arguments gets its own capture (old_pid and the binary), status says the
hooks share the chain, and deleting the killing policy (the chain's first slot) leaves the
others posting while its binary runs again.
"""
import pwd
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

N = 200


def policy(name, op, value):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
          tracepoints:
          - subsystem: "sched"
            event: "sched_process_exec"
            raw: true
            args:
            - index: 2
              type: "linux_binprm"
            selectors:
            - matchArgs:
              - index: 2
                operator: "%s"
                values: ["%s"]
        """) % (name, op, value)


def policy_args(tmp, files):
    """Each {name: yaml text} written into tmp: the agent's --tracing-policy arguments."""
    args = []
    for name, text in files.items():
        path = os.path.join(tmp, name + ".yaml")
        with open(path, "w") as f:
            f.write(text)
        args += ["--tracing-policy", path]
    return args


STORM = r"""
import os, sys
a, b, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    for path in (a, b):
        pid = os.fork()
        if pid == 0:
            os.execv(path, [path])
        os.waitpid(pid, 0)
"""


@vh.require_root
class ExecPathShare(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tmp = tempfile.mkdtemp(prefix="vigil-xps-")
        os.chmod(tmp, 0o755)
        tiny = shutil.which("true")	# in every build (the bench's static tiny is not in ASan's)
        cls.inside = os.path.join(tmp, "watched", "tiny")
        cls.outside = os.path.join(tmp, "other", "tiny-copy")
        for p in (cls.inside, cls.outside):
            os.makedirs(os.path.dirname(p))
            shutil.copy(tiny, p)
        files = {"xps-prefix": policy("xps-prefix", "Prefix", os.path.join(tmp, "watched") + "/"),
                 "xps-equal": policy("xps-equal", "Equal", cls.inside),
                 "xps-postfix": policy("xps-postfix", "Postfix", "/tiny-copy")}
        args = policy_args(tmp, files)
        with vh.Agent(*args, outputs=("json",)) as agent:
            p = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", STORM, cls.inside, cls.outside, str(N)],
                               check=True)
            cls.storm_rc = p.returncode
            cls.events = agent.events("json", settle=1.0)

    def of(self, policy):
        return [e["process_tracepoint"] for e in self.events
                if "process_tracepoint" in e and e["process_tracepoint"]["policy_name"] == policy]

    def check(self, policy, binary):
        evs = self.of(policy)
        self.assertEqual(len(evs), N, [e["args"] for e in evs[:3]])
        for e in evs:
            self.assertEqual(e["args"][0]["linux_binprm_arg"]["path"], binary)
            self.assertEqual(e["process"]["binary"], binary)

    def test_prefix_sees_exactly_the_watched_binary(self):
        self.check("xps-prefix", self.inside)

    def test_equal_sees_exactly_the_watched_binary(self):
        self.check("xps-equal", self.inside)

    def test_postfix_sees_exactly_the_copy(self):
        self.check("xps-postfix", self.outside)


def chain_policy(name, binary, action=None, old_pid=False):
    """An exec policy on binary's path; old_pid: also sched_process_exec's old_pid first (an
    argument list of its own, so no capture to take from the others)."""
    args = ['    - index: 1', '      type: "int"'] if old_pid else []
    args += ['    - index: 2', '      type: "linux_binprm"']
    lines = ["apiVersion: cilium.io/v1alpha1", "kind: TracingPolicy", "metadata:", '  name: "%s"' % name, "spec:",
             "  tracepoints:", '  - subsystem: "sched"', '    event: "sched_process_exec"', "    raw: true",
             "    args:"] + args + ["    selectors:", "    - matchArgs:", "      - index: 2",
                                    '        operator: "Equal"', '        values: ["%s"]' % binary]
    if action:
        lines += ["      matchActions:", "      - action: %s" % action]
    return "\n".join(lines) + "\n"


@vh.require_root
class ExecChain(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = "vgxc%d" % (os.getpid() % 100000)
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", cls.user], check=True)
        pw = pwd.getpwnam(cls.user)
        cls.uid, cls.gid = pw.pw_uid, pw.pw_gid
        tmp = tempfile.mkdtemp(prefix="vigil-xc-")
        os.chmod(tmp, 0o755)
        true = shutil.which("true")
        cls.bins = {k: os.path.join(tmp, k) for k in ("killed", "watched", "pidded")}
        for p in cls.bins.values():
            shutil.copy(true, p)
            os.chmod(p, 0o755)
        files = {"xc-kill": chain_policy("xc-kill", cls.bins["killed"], "Sigkill"),
                 "xc-watch": chain_policy("xc-watch", cls.bins["watched"]),
                 "xc-pid": chain_policy("xc-pid", cls.bins["pidded"], old_pid=True),
                 "xc-watch2": chain_policy("xc-watch2", cls.bins["watched"])}
        args = policy_args(tmp, files)
        cls.rc = {}
        try:
            with vh.Agent(*args, outputs=("json",)) as agent:
                cls.status = agent.status()
                cls.rc["before"] = cls.run_all(3)
                cls.deleted = subprocess.run([vh.VIGIL, "tp", "delete", "xc-kill", "--control", agent.control],
                                             capture_output=True, text=True)
                cls.rc["after"] = cls.run_all(2)
                cls.events = agent.events("json", settle=1.0)
        finally:
            subprocess.run(["userdel", cls.user], capture_output=True)
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def run_all(cls, n):
        """Each binary n times as the user, in turn: their exit statuses per binary."""
        rcs = {k: [] for k in cls.bins}
        for _ in range(n):
            for k, path in cls.bins.items():
                argv = ["setpriv", "--reuid", str(cls.uid), "--regid", str(cls.gid), "--clear-groups", "--", path]
                rcs[k].append(subprocess.run(argv).returncode)
        return rcs

    def of(self, policy):
        return [e["process_tracepoint"] for e in self.events
                if "process_tracepoint" in e and e["process_tracepoint"]["policy_name"] == policy
                and e["process_tracepoint"]["process"]["binary"] in self.bins.values()]

    def test_status_says_the_exec_hooks_share_one_program(self):
        pols = {p["name"]: p for p in self.status["policies"]}
        for name in ("xc-kill", "xc-watch", "xc-pid", "xc-watch2"):
            self.assertIn("one program per tracepoint", pols[name]["hooks"][0]["mechanism"], pols[name])

    def test_sigkill_hits_only_its_own_binary(self):
        self.assertEqual(self.rc["before"]["killed"], [-9] * 3)
        self.assertEqual(self.rc["before"]["watched"], [0] * 3)
        self.assertEqual(self.rc["before"]["pidded"], [0] * 3)
        kills = self.of("xc-kill")
        self.assertEqual(len(kills), 3, kills[:2])
        for e in kills:
            self.assertEqual(e["process"]["binary"], self.bins["killed"])
            self.assertEqual(e["process"]["uid"], self.uid)
            self.assertEqual(e["action"], "KPROBE_ACTION_SIGKILL")

    def test_each_policy_sees_exactly_its_execs(self):
        for name in ("xc-watch", "xc-watch2"):
            evs = self.of(name)
            self.assertEqual(len(evs), 5, [e["process"]["binary"] for e in evs])
            for e in evs:
                self.assertEqual(e["args"][0]["linux_binprm_arg"]["path"], self.bins["watched"])
                self.assertEqual(e["action"], "KPROBE_ACTION_POST")

    def test_other_arguments_get_their_own_capture(self):
        evs = self.of("xc-pid")
        self.assertEqual(len(evs), 5)
        for e in evs:
            self.assertEqual(e["args"][0], {"int_arg": e["process"]["pid"]})
            self.assertEqual(e["args"][1]["linux_binprm_arg"]["path"], self.bins["pidded"])

    def test_deleting_the_killer_leaves_the_others_and_frees_its_binary(self):
        self.assertEqual(self.deleted.returncode, 0, self.deleted.stderr)
        self.assertEqual(self.rc["after"], {"killed": [0, 0], "watched": [0, 0], "pidded": [0, 0]})


if __name__ == "__main__":
    vh.main()
