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
"""
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
        args = []
        for name, text in files.items():
            path = os.path.join(tmp, name + ".yaml")
            with open(path, "w") as f:
                f.write(text)
            args += ["--tracing-policy", path]
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


if __name__ == "__main__":
    vh.main()
