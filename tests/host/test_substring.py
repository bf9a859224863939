"""Host lane: matchArgs SubString on this kernel (6.18 has the bpf_strnstr kfunc), end to end
through `vigil tracingpolicy add`: an open whose path holds the needle anywhere is reported,
one that holds only part of it is not, whoever opens it (an unprivileged user's opens are
matched the same way: the filter reads the kernel's copy of the path, not anything the user
controls beyond the path itself). A kernel without the kfunc refuses the policy with the
reason: the vm lane's case 19 checks that on Debian 12's 6.1.
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


def kernel_has_strnstr():
    out = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                         capture_output=True, text=True, check=False).stdout
    return "FUNC 'bpf_strnstr'" in out


@vh.require_root
class SubString(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-substr-")
        os.chmod(cls.tmp, 0o777)     # the unprivileged opener creates its file here
        cls.policy = os.path.join(cls.tmp, "substr.yaml")
        with open(cls.policy, "w") as f:
            f.write(textwrap.dedent("""\
                apiVersion: cilium.io/v1alpha1
                kind: TracingPolicy
                metadata:
                  name: "substring"
                spec:
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
                      - index: 6
                        operator: "SubString"
                        values: ["needle", "secret.key"]
                """) % cls.tmp)
        run = lambda *a: subprocess.run(list(a), check=False)
        with vh.Agent() as agent:
            cls.added = subprocess.run([vh.VIGIL, "tracingpolicy", "add", cls.policy, "--control", agent.control],
                                       capture_output=True, text=True)
            time.sleep(0.2)
            run(OPENER, cls.tmp + "/hay-needle-stack", cls.tmp + "/needl", cls.tmp + "/x.secret.key")
            run(OPENER, cls.tmp + "/nee-dle")
            run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", OPENER,
                cls.tmp + "/nobody-needle", cls.tmp + "/nobody-hay")
            cls.status = agent.status()
            cls.events = agent.events("json")

    def opened(self):
        return sorted(os.path.relpath(e["process_tracepoint"]["args"][0]["string_arg"], self.tmp)
                      for e in self.events if e.get("process_tracepoint", {}).get("policy_name") == "substring")

    def test_policy_loads_on_a_kernel_with_bpf_strnstr(self):
        if not kernel_has_strnstr():
            self.skipTest("the kernel lacks bpf_strnstr (Linux 6.17+): the vm lane checks the refusal")
        self.assertEqual(self.added.returncode, 0, self.added.stderr)

    def test_only_paths_holding_a_needle_are_reported_whoever_opens_them(self):
        if not kernel_has_strnstr():
            self.skipTest("the kernel lacks bpf_strnstr (Linux 6.17+): the vm lane checks the refusal")
        self.assertEqual(self.opened(), ["hay-needle-stack", "nobody-needle", "x.secret.key"])


if __name__ == "__main__":
    vh.main()
