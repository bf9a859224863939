"""Host lane: call "list:NAME" over a generated_syscalls list hooks every syscall with one
program on raw_syscalls (not one per syscall): a marker binary's own syscalls come out as
process_kprobe events each naming its syscall (__x64_sys_openat, __x64_sys_exit_group, ...)
as Tetragon names a list's kprobes, its args read from the syscall's registers; a Sigkill
on the same list kills the binary at its first syscall. A generated_ftrace list's kprobes
need ftrace: refused here with the kernel's reason.
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

MARKER = os.path.join(vh.PROGS, "marker")


def policy(name, body):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
        """) % name + textwrap.indent(textwrap.dedent(body), "  ")


def all_syscalls(name, binary, action="Post"):
    return policy(name, """\
        lists:
        - name: "all-syscalls"
          type: "generated_syscalls"
        kprobes:
        - call: "list:all-syscalls"
          args:
          - index: 0
            type: "uint64"
          selectors:
          - matchBinaries:
            - operator: "In"
              values: ["%s"]
            matchActions:
            - action: %s
        """ % (binary, action))


@vh.require_root
class GeneratedLists(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-genlist-")
        # private copies: the policies match only these paths
        cls.watched = os.path.join(cls.tmp, "watched-marker")
        cls.killed = os.path.join(cls.tmp, "killed-marker")
        shutil.copy(MARKER, cls.watched)
        shutil.copy(MARKER, cls.killed)
        files = {
            "watch.yaml": all_syscalls("all-syscalls-watch", cls.watched),
            "kill.yaml": all_syscalls("all-syscalls-kill", cls.killed, "Sigkill"),
            "ftrace.yaml": policy("ftrace-list", """\
                lists:
                - name: "ksys"
                  type: "generated_ftrace"
                  pattern: "^ksys_*"
                kprobes:
                - call: "list:ksys"
                """),
        }
        with vh.Agent() as agent:
            cls.added = agent.add_policy_files(cls.tmp, files)
            cls.status = agent.status()
            cls.fd_path = os.path.join(cls.tmp, "watched.out")
            cls.watched_rc = subprocess.run([cls.watched, cls.fd_path]).returncode
            cls.kill_out = os.path.join(cls.tmp, "killed.out")
            cls.killed_rc = subprocess.run([cls.killed, cls.kill_out]).returncode
            cls.events = agent.events(settle=1.0)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def kprobes(self, policy):
        return [e["process_kprobe"] for e in self.events
                if e.get("process_kprobe", {}).get("policy_name") == policy]

    def test_every_syscall_of_the_binary_is_an_event_naming_its_syscall(self):
        self.assertEqual(self.added["watch.yaml"].returncode, 0, self.added["watch.yaml"].stderr)
        self.assertEqual(self.watched_rc, 0)
        evs = self.kprobes("all-syscalls-watch")
        names = [ev["function_name"] for ev in evs]
        # (execve enters while the caller is still the old binary: not among them)
        for want in ("__x64_sys_openat", "__x64_sys_close", "__x64_sys_exit_group"):
            self.assertIn(want, names, names)
        self.assertTrue(all(ev["process"]["binary"] == self.watched for ev in evs), evs[:3])
        # close(fd): args[0] is the fd openat returned, read from the syscall's registers
        closes = [ev for ev in evs if ev["function_name"] == "__x64_sys_close"]
        self.assertTrue(any(int(ev["args"][0]["size_arg"]) >= 3 for ev in closes), closes)

    def test_one_hook_on_raw_syscalls_not_one_per_syscall(self):
        hooks = [p["hooks"] for p in self.status["policies"] if p["name"] == "all-syscalls-watch"][0]
        self.assertEqual(len(hooks), 1, hooks)
        self.assertTrue(hooks[0]["attached"], hooks)
        self.assertIn("raw_syscalls", hooks[0]["mechanism"], hooks)

    def test_sigkill_on_every_syscall_kills_the_binary_before_it_writes(self):
        self.assertEqual(self.added["kill.yaml"].returncode, 0, self.added["kill.yaml"].stderr)
        self.assertEqual(self.killed_rc, -9)
        self.assertFalse(os.path.exists(self.kill_out))
        evs = self.kprobes("all-syscalls-kill")
        self.assertTrue(evs and all(ev["action"] == "KPROBE_ACTION_SIGKILL" for ev in evs), evs[:3])

    def test_generated_ftrace_list_is_refused_with_the_kernels_reason(self):
        r = self.added["ftrace.yaml"]
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('call "list:ksys": generated_ftrace list "ksys"', r.stderr)
        self.assertRegex(r.stderr, r"ftrace\.yaml:\d+:\d+:")


if __name__ == "__main__":
    unittest.main(verbosity=2)
