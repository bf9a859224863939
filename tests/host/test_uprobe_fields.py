"""Host lane: uprobe fields beyond symbols and offsets, and resolve on arguments.

- `return: true` with `returnArg` and `matchReturnArgs`: vigil_uprobe_target(n, word)
  returns n + word[0]; a uretprobe reports the value returned with the entry's arguments,
  and matchReturnArgs keeps only the call whose return value it names.
- `refCtrOffsets`: the kernel counts a USDT semaphore up while the uprobe is attached;
  semaphore_target prints its semaphore, 0 before the policy and 1 with it.
- `addrs`: the uprobe attached at vigil_uprobe_target's virtual address (readelf's), which
  vigil turns into a file offset through the ELF's program headers.
- `btfPath` and `resolve` on an uprobe argument: pahole writes btf_target's types as a BTF
  file; fields of the struct the argument points to (an int through a pointer, a string
  pointer, a char array) are read from the traced process's memory.
- `resolve` on a syscall's argument (kprobe with syscall: true, and the syscalls tracepoint;
  the format file types the argument, the kernel's BTF lays out the struct): prlimit64's
  rlimit64 fields, filtered in the kernel on the resolved value; and on a raw tracepoint's
  argument (btf_trace_sched_process_exec types it): the binprm's filename.
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
BTF_TARGET = os.path.join(vh.PROGS, "btf_target")
SOFT, HARD = 777, 7777    # prlimit64's marker values


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


def symbol_address(binary, symbol):
    """The virtual address of a function symbol (readelf -s's Value)."""
    syms = subprocess.run(["readelf", "-sW", binary], capture_output=True, text=True, check=True).stdout
    return int(next(line.split() for line in syms.splitlines() if line.split()[-1:] == [symbol])[1], 16)


def btf_file(binary, directory):
    """btf_target's types as a raw BTF file (pahole, from its DWARF)."""
    out = os.path.join(directory, "btf_target.btf")
    subprocess.run(["pahole", "--btf_encode_detached=" + out, binary], check=True, capture_output=True)
    return out


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
    "addrs.yaml": policy("uprobe-addrs", """\
        uprobes:
        - path: "%s"
          addrs: ["0x%x"]
          args:
          - index: 0
            type: "int"
        """ % (UPROBE, symbol_address(UPROBE, "vigil_uprobe_target"))),
    "sys.yaml": policy("resolve-syscall", """\
        kprobes:
        - call: "sys_prlimit64"
          syscall: true
          args:
          - index: 2
            type: "int"
            resolve: "rlim_cur"
          selectors:
          - matchArgs:
            - index: 2
              operator: "Equal"
              values: ["%d"]
        """ % SOFT),
    "tp.yaml": policy("resolve-tracepoint", """\
        tracepoints:
        - subsystem: "syscalls"
          event: "sys_enter_prlimit64"
          args:
          - index: 7
            type: "int"
            resolve: "rlim_max"
          selectors:
          - matchArgs:
            - index: 7
              operator: "Equal"
              values: ["%d"]
        """ % HARD),
    "rawtp.yaml": policy("resolve-raw-tracepoint", """\
        tracepoints:
        - subsystem: "sched"
          event: "sched_process_exec"
          raw: true
          args:
          - index: 2
            type: "string"
            resolve: "filename"
          selectors:
          - matchArgs:
            - index: 2
              operator: "Equal"
              values: ["%s"]
        """ % BTF_TARGET),
}


def btf_policy(btf):
    return policy("uprobe-btf", """\
        uprobes:
        - path: "%s"
          symbols: ["vigil_btf_target"]
          btfPath: "%s"
          args:
          - index: 0
            type: "int64"
            resolve: "inner.code"
          - index: 0
            type: "string"
            resolve: "name"
          - index: 0
            type: "string"
            resolve: "inner.tag"
        """ % (BTF_TARGET, btf))


@vh.require_root
class UprobeFields(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tmp = tempfile.mkdtemp(prefix="vigil-uprobe-")
        cls.added = {}
        cls.semaphore_before = semaphore_value()
        policies = dict(POLICIES)
        policies["btf.yaml"] = btf_policy(btf_file(BTF_TARGET, tmp))
        with vh.Agent() as agent:
            for name, text in policies.items():
                path = os.path.join(tmp, name)
                with open(path, "w") as f:
                    f.write(text)
                cls.added[name] = subprocess.run(
                    [vh.VIGIL, "tracingpolicy", "add", path, "--control", agent.control],
                    capture_output=True, text=True)
            subprocess.run([UPROBE, "42", "hello"], check=False)    # 42 + 'h' (104) = 146
            subprocess.run([UPROBE, "1", "hello"], check=False)     # 105: not reported
            cls.semaphore_during = semaphore_value()
            subprocess.run([BTF_TARGET, "-4242", "btf-name", "btf-tag"], check=False)
            # prlimit64 on a child of its own: soft SOFT, hard HARD (root may raise it)
            cls.prlimit = subprocess.run(
                [sys.executable, "-c", "import resource; resource.prlimit(0, resource.RLIMIT_NOFILE, (%d, %d))"
                 % (SOFT, HARD)])
            subprocess.run([sys.executable, "-c", "import resource; resource.prlimit(0, resource.RLIMIT_NOFILE, "
                            "(%d, %d))" % (SOFT + 1, HARD + 1)])    # filtered out in the kernel
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

    def kind(self, key, name):
        return [e[key] for e in self.events if e.get(key, {}).get("policy_name") == name]

    def test_uprobe_at_a_virtual_address_reports_the_call(self):
        self.assertEqual(self.added["addrs.yaml"].returncode, 0, self.added["addrs.yaml"].stderr)
        evs = self.uprobes("uprobe-addrs")
        self.assertIn([{"int_arg": 42}], [ev["args"] for ev in evs], evs)
        self.assertEqual(evs[0]["path"], UPROBE)

    def test_btf_path_resolves_fields_of_a_user_struct(self):
        self.assertEqual(self.added["btf.yaml"].returncode, 0, self.added["btf.yaml"].stderr)
        evs = self.uprobes("uprobe-btf")
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]["args"], [{"long_arg": "-4242"}, {"string_arg": "btf-name"},
                                          {"string_arg": "btf-tag"}], evs)

    def test_resolve_on_a_syscall_argument_reads_the_user_struct(self):
        self.assertEqual(self.added["sys.yaml"].returncode, 0, self.added["sys.yaml"].stderr)
        self.assertEqual(self.prlimit.returncode, 0)
        evs = self.kind("process_kprobe", "resolve-syscall")
        self.assertEqual([ev["args"] for ev in evs], [[{"int_arg": SOFT}]], evs)

    def test_resolve_on_a_tracepoint_argument_reads_the_user_struct(self):
        self.assertEqual(self.added["tp.yaml"].returncode, 0, self.added["tp.yaml"].stderr)
        evs = self.kind("process_tracepoint", "resolve-tracepoint")
        self.assertEqual([ev["args"] for ev in evs], [[{"int_arg": HARD}]], evs)

    def test_resolve_on_a_raw_tracepoint_argument_reads_the_kernel_struct(self):
        self.assertEqual(self.added["rawtp.yaml"].returncode, 0, self.added["rawtp.yaml"].stderr)
        evs = self.kind("process_tracepoint", "resolve-raw-tracepoint")
        self.assertEqual([ev["args"] for ev in evs], [[{"string_arg": BTF_TARGET}]], evs)

    def test_ref_ctr_offset_raises_the_semaphore_while_attached(self):
        self.assertEqual(self.added["sem.yaml"].returncode, 0, self.added["sem.yaml"].stderr)
        self.assertEqual((self.semaphore_before, self.semaphore_during, self.semaphore_after), (0, 1, 0))
        # the probed call saw the raised semaphore too
        self.assertIn([{"int_arg": 1}], [ev["args"] for ev in self.uprobes("uprobe-semaphore")])


if __name__ == "__main__":
    vh.main()
