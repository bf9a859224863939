"""Host lane: spec.usdts (libbpf's USDT support). A probe in a test program (sys/sdt.h) fires
process_usdt events with Tetragon's keys (path, provider, name, args by the probe's argument
index: a 32-bit and a 64-bit value read where the probe's note places them); matchArgs
filters on them in the kernel; Sigkill at the probe kills the program; the Set action, which
would write the program's memory, is refused at its key.
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

TARGET = os.path.join(vh.PROGS, "usdt_target")


def usdt_policy(name, path, selectors=""):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
          usdts:
          - path: "%s"
            provider: "vigiltest"
            name: "probe2"
            args:
            - index: 0
              type: "int32"
            - index: 1
              type: "int64"
        """) % (name, path) + textwrap.indent(textwrap.dedent(selectors), "    ")


@vh.require_root
class Usdt(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-usdt-")
        cls.watched = os.path.join(cls.tmp, "usdt-watched")
        cls.killed = os.path.join(cls.tmp, "usdt-killed")
        shutil.copy(TARGET, cls.watched)
        shutil.copy(TARGET, cls.killed)
        files = {
            "watch.yaml": usdt_policy("usdt-watch", cls.watched, """\
                selectors:
                - matchArgs:
                  - index: 0
                    operator: "Equal"
                    values: ["41", "42"]
                """),
            "kill.yaml": usdt_policy("usdt-kill", cls.killed, """\
                selectors:
                - matchActions:
                  - action: Sigkill
                """),
            "set.yaml": usdt_policy("usdt-set", cls.watched, """\
                selectors:
                - matchActions:
                  - action: Set
                    argIndex: 0
                    argValue: 32
                """),
        }
        with vh.Agent() as agent:
            cls.added = agent.add_policy_files(cls.tmp, files)
            cls.status = agent.status()
            cls.watched_rc = subprocess.run([cls.watched, "4"]).returncode   # values 40..43
            cls.killed_rc = subprocess.run([cls.killed, "1"]).returncode
            cls.events = agent.events(settle=1.0)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def usdts(self, policy):
        return [e["process_usdt"] for e in self.events
                if e.get("process_usdt", {}).get("policy_name") == policy]

    def test_probe_fires_events_with_its_arguments_filtered_in_the_kernel(self):
        self.assertEqual(self.added["watch.yaml"].returncode, 0, self.added["watch.yaml"].stderr)
        self.assertEqual(self.watched_rc, 0)
        evs = self.usdts("usdt-watch")
        self.assertEqual([ev["args"][0]["int_arg"] for ev in evs], [41, 42], evs)
        for ev in evs:
            self.assertEqual(ev["path"], self.watched)
            self.assertEqual(ev["provider"], "vigiltest")
            self.assertEqual(ev["name"], "probe2")
            self.assertEqual(int(ev["args"][1]["long_arg"]), 0x1122334455667788)
            self.assertEqual(ev["process"]["binary"], self.watched)

    def test_sigkill_at_the_probe_kills_the_program(self):
        self.assertEqual(self.added["kill.yaml"].returncode, 0, self.added["kill.yaml"].stderr)
        self.assertEqual(self.killed_rc, -9)
        evs = self.usdts("usdt-kill")
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]["action"], "KPROBE_ACTION_SIGKILL")

    def test_set_is_refused_at_its_key(self):
        r = self.added["set.yaml"]
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"set\.yaml:\d+:\d+: .*argIndex.*does not write user memory")


if __name__ == "__main__":
    unittest.main(verbosity=2)
