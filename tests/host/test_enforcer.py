"""Host lane: spec.enforcers with NotifyEnforcer, Tetragon's killer.yaml pattern. A
raw_syscalls/sys_enter hook whose selector matches the enforcer's syscalls (InMap over the
same list) and a private copy of bash notifies with argSig 9: the shell is killed at its
dup2 and never runs the command after it; other binaries' dups go on. The error form
(argError), which would override the syscalls' return, is refused at argError with the reason.
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

BASH = os.path.realpath("/bin/bash")


def killer(name, binary, action_args):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
          lists:
          - name: "dups"
            type: "syscalls"
            values: ["sys_dup", "sys_dup2", "sys_dup3"]
          enforcers:
          - calls:
            - "list:dups"
          tracepoints:
          - subsystem: "raw_syscalls"
            event: "sys_enter"
            args:
            - index: 4
              type: "syscall64"
            selectors:
            - matchArgs:
              - index: 0
                operator: "InMap"
                values:
                - "list:dups"
              matchBinaries:
              - operator: "In"
                values:
                - "%s"
              matchActions:
              - action: "NotifyEnforcer"
        %s""") % (name, binary, textwrap.indent(action_args, " " * 8))


@vh.require_root
class Enforcer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-enforcer-")
        cls.shell = os.path.join(cls.tmp, "enforced-bash")
        shutil.copy(BASH, cls.shell)
        files = {
            "signal.yaml": killer("kill-dups", cls.shell, "argSig: 9\n"),
            "error.yaml": killer("deny-dups", cls.shell, "argError: -1\nargSig: 9\n"),
        }
        with vh.Agent() as agent:
            cls.added = agent.add_policy_files(cls.tmp, files)
            cls.enforced = subprocess.run([cls.shell, "-c", "exec 3>&1; echo after"], capture_output=True, text=True)
            cls.other = subprocess.run([BASH, "-c", "exec 3>&1; echo after"], capture_output=True, text=True)
            cls.events = agent.events(settle=1.0)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_notify_enforcer_kills_the_shell_at_its_dup2(self):
        self.assertEqual(self.added["signal.yaml"].returncode, 0, self.added["signal.yaml"].stderr)
        self.assertEqual(self.enforced.returncode, -9, self.enforced)
        self.assertNotIn("after", self.enforced.stdout)
        evs = [e["process_tracepoint"] for e in self.events
               if e.get("process_tracepoint", {}).get("policy_name") == "kill-dups"]
        self.assertTrue(evs, "no event")
        self.assertEqual(evs[0]["args"][0]["syscall_id"]["id"], 33)    # __NR_dup2
        self.assertEqual(evs[0]["action"], "KPROBE_ACTION_SIGNAL")

    def test_other_binaries_dup_unharmed(self):
        self.assertEqual(self.other.returncode, 0)
        self.assertEqual(self.other.stdout, "after\n")

    def test_error_form_is_refused_at_arg_error(self):
        r = self.added["error.yaml"]
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"error\.yaml:\d+:\d+: .*NotifyEnforcer with argError needs the enforcer")


if __name__ == "__main__":
    unittest.main(verbosity=2)
