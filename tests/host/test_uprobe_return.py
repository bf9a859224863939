"""Host lane: uprobe return probes (`return: true`, `returnArg`, `matchReturnArgs`,
`matchReturnActions`). vigil_uprobe_target(n, word) returns n + word[0]: a uretprobe on it
reports the value returned with the entry's arguments, and matchReturnArgs keeps only the
call whose return value it names.
"""
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

UPROBE = os.path.join(vh.PROGS, "uprobe_target")

POLICY = textwrap.dedent("""\
    apiVersion: cilium.io/v1alpha1
    kind: TracingPolicy
    metadata:
      name: "uprobe-return"
    spec:
      uprobes:
      - path: "%s"
        symbols: ["vigil_uprobe_target"]
        return: true
        args:
        - index: 0
          type: "int"
        returnArg:
          index: 0
          type: "int"
        selectors:
        - matchReturnArgs:
          - index: 0
            operator: "Equal"
            values: ["146"]
    """) % UPROBE


@vh.require_root
class UprobeReturn(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(POLICY)
            path = f.name
        try:
            with vh.Agent() as agent:
                cls.added = subprocess.run([vh.VIGIL, "tracingpolicy", "add", path, "--control", agent.control],
                                           capture_output=True, text=True)
                subprocess.run([UPROBE, "42", "hello"], check=False)    # 42 + 'h' (104) = 146
                subprocess.run([UPROBE, "1", "hello"], check=False)     # 105: not reported
                cls.events = agent.events("json")
        finally:
            os.unlink(path)

    def test_return_value_is_reported_with_the_entry_arguments(self):
        self.assertEqual(self.added.returncode, 0, self.added.stderr)
        evs = [e["process_uprobe"] for e in self.events
               if e.get("process_uprobe", {}).get("policy_name") == "uprobe-return"]
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]["args"], [{"int_arg": 42}])
        self.assertEqual(evs[0]["return"], {"int_arg": 146})
        self.assertEqual(evs[0]["symbol"], "vigil_uprobe_target")


if __name__ == "__main__":
    vh.main()
