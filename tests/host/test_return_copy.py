"""Host lane: returnCopy. A return probe on read(2) whose buffer argument has returnCopy
reports what the call put in the buffer (as many bytes as it returned), not what the buffer
held when the call began; a char_buf without returnCopy on a hook that is no return probe
is refused at load.
"""
import base64
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

CAT = os.path.realpath("/bin/cat")
SECRET = b"vigil-return-copy-%d\n" % os.getpid()


def policy(name, body):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
        """) % name + textwrap.indent(textwrap.dedent(body), "  ")


POLICIES = {
    "read.yaml": policy("return-copy", """\
        kprobes:
        - call: "sys_read"
          syscall: true
          return: true
          args:
          - index: 1
            type: "char_buf"
            sizeArgIndex: 3
            returnCopy: true
          - index: 2
            type: "size_t"
          returnArg:
            index: 0
            type: "int"
          selectors:
          - matchBinaries:
            - operator: "In"
              values: ["%s"]
        """ % CAT),
    "entry.yaml": policy("return-copy-no-return", """\
        kprobes:
        - call: "sys_read"
          syscall: true
          args:
          - index: 1
            type: "char_buf"
            returnCopy: true
        """),
}


@vh.require_root
class ReturnCopy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tmp = tempfile.mkdtemp(prefix="vigil-retcopy-")
        data = os.path.join(tmp, "data")
        with open(data, "wb") as f:
            f.write(SECRET)
        cls.added = {}
        with vh.Agent() as agent:
            for name, text in POLICIES.items():
                path = os.path.join(tmp, name)
                with open(path, "w") as f:
                    f.write(text)
                cls.added[name] = subprocess.run(
                    [vh.VIGIL, "tracingpolicy", "add", path, "--control", agent.control],
                    capture_output=True, text=True)
            subprocess.run([CAT, data], stdout=subprocess.DEVNULL, check=True)
            cls.events = agent.events("json")

    def test_buffer_is_read_when_the_call_returns(self):
        self.assertEqual(self.added["read.yaml"].returncode, 0, self.added["read.yaml"].stderr)
        evs = [e["process_kprobe"] for e in self.events
               if e.get("process_kprobe", {}).get("policy_name") == "return-copy"]
        got = [base64.b64decode(ev["args"][0].get("bytes_arg", "")) for ev in evs
               if ev.get("return", {}).get("int_arg") == len(SECRET)]
        self.assertIn(SECRET, got, evs)
        # the read at end of file returned 0: nothing copied
        self.assertTrue(any(ev.get("return", {}).get("int_arg") == 0 and not ev["args"][0].get("bytes_arg")
                            for ev in evs), evs)

    def test_return_copy_without_a_return_probe_is_refused(self):
        r = self.added["entry.yaml"]
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("returnCopy reads a char_buf argument when the call returns", r.stderr + r.stdout)


if __name__ == "__main__":
    vh.main()
