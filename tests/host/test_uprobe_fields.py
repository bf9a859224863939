"""Host lane: uprobe fields beyond symbols and offsets.

- `return: true` with `returnArg` and `matchReturnArgs`: vigil_uprobe_target(n, word)
  returns n + word[0]; a uretprobe reports the value returned with the entry's arguments,
  and matchReturnArgs keeps only the call whose return value it names.
- `refCtrOffsets`: the kernel counts a USDT semaphore up while the uprobe is attached;
  semaphore_target prints its semaphore, 0 before the policy and 1 with it.
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
SEMAPHORE = os.path.join(vh.PROGS, "semaphore_target")


def policy(name, body):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
        """) % name + textwrap.indent(textwrap.dedent(body), "  ")


def semaphore_offset(binary, symbol):
    """The file offset of a data symbol, through its section (readelf, from binutils)."""
    syms = subprocess.run(["readelf", "-sW", binary], capture_output=True, text=True, check=True).stdout
    f = next(line.split() for line in syms.splitlines() if line.split()[-1:] == [symbol])
    addr, ndx = int(f[1], 16), int(f[6])
    secs = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout
    for line in secs.splitlines():
        line = line.replace("[ ", "[")
        g = line.split()
        if g[:1] == ["[%d]" % ndx]:
            sec_addr, sec_off = int(g[3], 16), int(g[4], 16)
            return addr - sec_addr + sec_off
    raise RuntimeError("no section %d in %s" % (ndx, binary))


def semaphore_value():
    return int(subprocess.run([SEMAPHORE], capture_output=True, text=True, check=True).stdout)


POLICIES = {
    "ret.yaml": policy("uprobe-return", """\
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
        """ % UPROBE),
    "sem.yaml": policy("uprobe-semaphore", """\
        uprobes:
        - path: "%s"
          symbols: ["vigil_semaphore_probe"]
          refCtrOffsets: ["%d"]
          args:
          - index: 0
            type: "int"
        """ % (SEMAPHORE, semaphore_offset(SEMAPHORE, "vigil_semaphore"))),
}


@vh.require_root
class UprobeFields(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tmp = tempfile.mkdtemp(prefix="vigil-uprobe-")
        cls.added = {}
        cls.semaphore_before = semaphore_value()
        with vh.Agent() as agent:
            for name, text in POLICIES.items():
                path = os.path.join(tmp, name)
                with open(path, "w") as f:
                    f.write(text)
                cls.added[name] = subprocess.run(
                    [vh.VIGIL, "tracingpolicy", "add", path, "--control", agent.control],
                    capture_output=True, text=True)
            subprocess.run([UPROBE, "42", "hello"], check=False)    # 42 + 'h' (104) = 146
            subprocess.run([UPROBE, "1", "hello"], check=False)     # 105: not reported
            cls.semaphore_during = semaphore_value()
            cls.events = agent.events("json")
        cls.semaphore_after = semaphore_value()

    def uprobes(self, name):
        return [e["process_uprobe"] for e in self.events
                if e.get("process_uprobe", {}).get("policy_name") == name]

    def test_return_value_is_reported_with_the_entry_arguments(self):
        self.assertEqual(self.added["ret.yaml"].returncode, 0, self.added["ret.yaml"].stderr)
        evs = self.uprobes("uprobe-return")
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]["args"], [{"int_arg": 42}])
        self.assertEqual(evs[0]["return"], {"int_arg": 146})
        self.assertEqual(evs[0]["symbol"], "vigil_uprobe_target")

    def test_ref_ctr_offset_raises_the_semaphore_while_attached(self):
        self.assertEqual(self.added["sem.yaml"].returncode, 0, self.added["sem.yaml"].stderr)
        self.assertEqual((self.semaphore_before, self.semaphore_during, self.semaphore_after), (0, 1, 0))
        # the probed call saw the raised semaphore too
        self.assertIn([{"int_arg": 1}], [ev["args"] for ev in self.uprobes("uprobe-semaphore")])


if __name__ == "__main__":
    vh.main()
