"""Host lane: kernelStackTrace and userStackTrace, end to end.

A tracepoint on syscalls:sys_enter_openat and a uprobe on vigil_stack_inner ask for stack
traces; stack_target opens a file from vigil_stack_inner, called by vigil_stack_outer,
called by main. The events must carry kernel_stack_trace frames named from /proc/kallsyms
(the syscall entry is on every such stack) and user_stack_trace frames named from the
binary's own ELF symbols, with the binary as their module, as Tetragon's StackTraceEntry.
A selector without the flags reports no stacks.

Abuse: an unprivileged user's binary replaces its own file with a FIFO before the traced
call, so a symboliser that opened the mapped path would block; the agent must keep going
and still name the frames (it reads the mapping itself, /proc/PID/map_files).
"""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

TARGET = os.path.join(vh.PROGS, "stack_target")


def policy(name, body):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
        """) % name + textwrap.indent(textwrap.dedent(body), "  ")


@vh.require_root
class StackTraces(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-stacks-")
        os.chmod(cls.tmp, 0o777)
        t = cls.tmp
        nobody = pwd.getpwnam("nobody")
        cls.swap_bin = os.path.join(t, "swapper", "stack_target")
        os.makedirs(os.path.dirname(cls.swap_bin))
        shutil.copy(TARGET, cls.swap_bin)
        os.chown(os.path.dirname(cls.swap_bin), nobody.pw_uid, nobody.pw_gid)
        os.chown(cls.swap_bin, nobody.pw_uid, nobody.pw_gid)
        files = {
            "tp.yaml": policy("stacks-tp", """\
                tracepoints:
                - subsystem: "syscalls"
                  event: "sys_enter_openat"
                  args:
                  - index: 6
                    type: "string"
                  selectors:
                  - matchArgs:
                    - index: 6
                      operator: "Prefix"
                      values: ["%s/with/"]
                    matchActions:
                    - action: Post
                      kernelStackTrace: true
                      userStackTrace: true
                  - matchArgs:
                    - index: 6
                      operator: "Prefix"
                      values: ["%s/without/"]
                """ % (t, t)),
            "up.yaml": policy("stacks-uprobe", """\
                uprobes:
                - path: "%s"
                  symbols: ["vigil_stack_inner"]
                  selectors:
                  - matchActions:
                    - action: Post
                      userStackTrace: true
                """ % TARGET),
        }
        cls.added = {}
        with vh.Agent() as agent:
            for name, text in files.items():
                path = os.path.join(t, name)
                with open(path, "w") as f:
                    f.write(text)
                cls.added[name] = subprocess.run(
                    [vh.VIGIL, "tracingpolicy", "add", path, "--control", agent.control],
                    capture_output=True, text=True)
            subprocess.run([TARGET, t + "/with/a"], check=False)
            subprocess.run([TARGET, t + "/without/b"], check=False)
            cls.swap_rc = subprocess.run(
                ["setpriv", "--reuid", str(nobody.pw_uid), "--regid", str(nobody.pw_gid), "--clear-groups", "--",
                 cls.swap_bin, t + "/with/swapped", "swap"], timeout=30).returncode
            cls.status = agent.status()
            cls.alive = agent.proc.poll() is None
            cls.events = agent.events("json", settle=1.5)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tracepoint(self, leaf):
        return [e["process_tracepoint"] for e in self.events
                if e.get("process_tracepoint", {}).get("policy_name") == "stacks-tp"
                and e["process_tracepoint"]["args"][0]["string_arg"] == os.path.join(self.tmp, leaf)]

    def symbols(self, frames):
        return [f.get("symbol") for f in frames]

    def test_policies_load(self):
        for name, r in self.added.items():
            self.assertEqual(r.returncode, 0, name + ": " + r.stderr)

    def test_kernel_stack_is_named_from_kallsyms(self):
        evs = self.tracepoint("with/a")
        self.assertEqual(len(evs), 1, evs)
        frames = evs[0]["kernel_stack_trace"]
        self.assertIn("do_syscall_64", self.symbols(frames), frames)
        for f in frames:
            self.assertNotIn("address", f)      # hidden, as Tetragon hides it by default
            self.assertTrue(int(f.get("offset", "0")) < 1 << 20, f)   # from the symbol, not an address

    def test_user_stack_is_named_from_the_binary(self):
        frames = self.tracepoint("with/a")[0]["user_stack_trace"]
        syms = self.symbols(frames)
        # the syscall is issued in vigil_stack_inner itself: the walk sees inner, outer, main in order
        self.assertEqual(syms[:3], ["vigil_stack_inner", "vigil_stack_outer", "main"], frames)
        self.assertEqual(frames[0]["module"], TARGET)

    def test_selector_without_the_flags_reports_no_stacks(self):
        evs = self.tracepoint("without/b")
        self.assertEqual(len(evs), 1, evs)
        self.assertNotIn("kernel_stack_trace", evs[0])
        self.assertNotIn("user_stack_trace", evs[0])

    def test_uprobe_user_stack_starts_at_the_probed_function(self):
        evs = [e["process_uprobe"] for e in self.events
               if e.get("process_uprobe", {}).get("policy_name") == "stacks-uprobe"]
        self.assertGreaterEqual(len(evs), 2, evs)
        for ev in evs:
            syms = self.symbols(ev["user_stack_trace"])
            # at the entry the caller's frame is not pushed yet: inner, then main's call site
            self.assertEqual(syms[0], "vigil_stack_inner", ev)
            self.assertIn("main", syms, ev)
            self.assertNotIn("kernel_stack_trace", ev)

    def test_a_user_swapping_its_binary_for_a_fifo_neither_blocks_nor_misleads_the_agent(self):
        self.assertEqual(self.swap_rc, 0)
        self.assertTrue(self.alive)
        evs = self.tracepoint("with/swapped")
        self.assertEqual(len(evs), 1, evs)
        syms = self.symbols(evs[0]["user_stack_trace"])
        self.assertEqual(syms[:3], ["vigil_stack_inner", "vigil_stack_outer", "main"], evs[0])
        self.assertEqual(evs[0]["process"]["uid"], pwd.getpwnam("nobody").pw_uid)


if __name__ == "__main__":
    vh.main()
