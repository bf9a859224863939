"""Host lane: spec.loader: true (the loader sensor). A dynamically linked program run while
such a policy is loaded yields process_loader events for its binary and for each library
the dynamic loader maps executable (libc among them), each with the file's GNU build id as
readelf reads it (base64, as protojson writes bytes); `vigil tp list` says what the sensor is
attached to; while the policy is disabled, and once it is deleted, no loader events come.
"""
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

LOADER = textwrap.dedent("""\
    apiVersion: cilium.io/v1alpha1
    kind: TracingPolicy
    metadata:
      name: "loader"
    spec:
      loader: true
    """)


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, check=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return base64.b64encode(bytes.fromhex(m.group(1))).decode() if m else None


def libc_of(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    return os.path.realpath(re.search(r"libc\.so\.6 => (\S+)", out).group(1))


@vh.require_root
class Loader(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-loader-")
        # a private copy of a dynamically linked program: its events are ours alone
        cls.binary = os.path.join(cls.tmp, "loaded-true")
        shutil.copy(os.path.realpath("/bin/true"), cls.binary)
        cls.after = os.path.join(cls.tmp, "after-true")
        cls.disabled = os.path.join(cls.tmp, "disabled-true")
        cls.reenabled = os.path.join(cls.tmp, "reenabled-true")
        for copy in (cls.after, cls.disabled, cls.reenabled):
            shutil.copy(os.path.realpath("/bin/true"), copy)
        path = os.path.join(cls.tmp, "loader.yaml")
        with open(path, "w") as f:
            f.write(LOADER)
        with vh.Agent() as agent:
            cls.added = subprocess.run([vh.VIGIL, "tracingpolicy", "add", path, "--control", agent.control],
                                       capture_output=True, text=True)
            cls.listing = subprocess.run([vh.VIGIL, "tracingpolicy", "list", "--control", agent.control],
                                         capture_output=True, text=True).stdout
            subprocess.run([cls.binary], check=True)
            tp = [vh.VIGIL, "tracingpolicy"]
            subprocess.run(tp + ["disable", "loader", "--control", agent.control], check=True, capture_output=True)
            subprocess.run([cls.disabled], check=True)
            subprocess.run(tp + ["enable", "loader", "--control", agent.control], check=True, capture_output=True)
            subprocess.run([cls.reenabled], check=True)
            time.sleep(0.5)
            subprocess.run([vh.VIGIL, "tracingpolicy", "delete", "loader", "--control", agent.control],
                           check=True, capture_output=True)
            subprocess.run([cls.after], check=True)
            cls.events = agent.events(settle=1.0)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def loads(self, binary):
        return [e["process_loader"] for e in self.events
                if e.get("process_loader", {}).get("process", {}).get("binary") == binary]

    def test_binary_and_libc_are_reported_with_their_build_ids(self):
        self.assertEqual(self.added.returncode, 0, self.added.stderr)
        evs = self.loads(self.binary)
        paths = {ev["path"]: ev.get("buildid") for ev in evs}
        self.assertIn(self.binary, paths, evs)
        self.assertEqual(paths[self.binary], build_id(self.binary))
        libc = libc_of(self.binary)
        self.assertIn(libc, paths, sorted(paths))
        self.assertEqual(paths[libc], build_id(libc))
        self.assertTrue(all(ev["process"]["pid"] == evs[0]["process"]["pid"] for ev in evs), evs)

    def test_tp_list_names_the_sensors_mechanism(self):
        self.assertIn("loader via tracepoint syscalls/sys_exit_mmap", self.listing)

    def test_no_loader_events_once_the_policy_is_deleted(self):
        self.assertEqual(self.loads(self.after), [])

    def test_disable_stops_the_events_and_enable_brings_them_back(self):
        self.assertEqual(self.loads(self.disabled), [])
        self.assertIn(self.reenabled, [ev["path"] for ev in self.loads(self.reenabled)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
