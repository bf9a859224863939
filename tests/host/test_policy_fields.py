"""Host lane: TracingPolicy fields that change what the agent does, end to end through
`vigil tracingpolicy add`: ignore.callNotFound leaves a missing function out and keeps the
rest of the policy; without it the same policy is refused at the call's line and column; a
field vigil does not honour is refused by the running agent, at its position, by name.

The field-by-field table (honoured or refused) is tests/unit/test_policy_schema.c.
"""
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

OPENER = os.path.join(vh.PROGS, "opener")


def policy(name, body):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
        """) % name + textwrap.indent(textwrap.dedent(body), "  ")


def missing_call_policy(name, tmp, ignore):
    # line 7 of the document holds the call (kept there by the layout below)
    return policy(name, """\
        kprobes:
        - call: "vigil_no_such_kernel_function"
          syscall: false
        %s
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
              values: ["%s/"]
        """ % ("  ignore: {callNotFound: true}" if ignore else "", tmp))


@vh.require_root
class PolicyFields(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-fields-")
        files = {
            "ignored.yaml": missing_call_policy("missing-call-ignored", cls.tmp + "/ignored", True),
            "strict.yaml": missing_call_policy("missing-call-strict", cls.tmp + "/strict", False),
            "stack.yaml": policy("stack-trace", """\
                tracepoints:
                - subsystem: "syscalls"
                  event: "sys_enter_openat"
                  selectors:
                  - matchActions:
                    - action: Post
                      kernelStackTrace: true
                """),
        }
        cls.files = {}
        for name, text in files.items():
            path = os.path.join(cls.tmp, name)
            with open(path, "w") as f:
                f.write(text)
            cls.files[name] = path
        add = lambda agent, name: subprocess.run(
            [vh.VIGIL, "tracingpolicy", "add", cls.files[name], "--control", agent.control],
            capture_output=True, text=True)
        with vh.Agent() as agent:
            cls.ignored = add(agent, "ignored.yaml")
            cls.strict = add(agent, "strict.yaml")
            cls.stack = add(agent, "stack.yaml")
            time.sleep(0.2)
            subprocess.run([OPENER, cls.tmp + "/ignored/a", cls.tmp + "/strict/b"], check=False)
            cls.status = agent.status()
            cls.events = agent.events("json")

    def opened(self, policy_name):
        return sorted(e["process_tracepoint"]["args"][0]["string_arg"] for e in self.events
                      if e.get("process_tracepoint", {}).get("policy_name") == policy_name)

    def test_call_not_found_is_left_out_and_the_rest_of_the_policy_runs(self):
        self.assertEqual(self.ignored.returncode, 0, self.ignored.stderr)
        self.assertEqual(self.opened("missing-call-ignored"), [self.tmp + "/ignored/a"])

    def test_status_says_the_missing_call_was_skipped_and_why(self):
        pol = [p for p in self.status["policies"] if p["name"] == "missing-call-ignored"]
        self.assertEqual(len(pol), 1, self.status)
        text = repr(pol[0])
        self.assertIn("ignore.callNotFound", text)
        self.assertIn("vigil_no_such_kernel_function", text)

    def test_without_ignore_the_missing_call_refuses_the_policy_at_its_position(self):
        self.assertNotEqual(self.strict.returncode, 0)
        self.assertIn(self.files["strict.yaml"] + ":7:11:", self.strict.stderr)
        self.assertIn("vigil_no_such_kernel_function", self.strict.stderr)
        self.assertEqual(self.opened("missing-call-strict"), [])

    def test_agent_refuses_a_field_it_does_not_honour_by_name_and_position(self):
        self.assertNotEqual(self.stack.returncode, 0)
        self.assertIn(self.files["stack.yaml"] + ":12:27:", self.stack.stderr)
        self.assertIn("kernelStackTrace is not supported yet", self.stack.stderr)
        names = {p["name"] for p in self.status["policies"]}
        self.assertNotIn("stack-trace", names)


if __name__ == "__main__":
    unittest.main(verbosity=2)
