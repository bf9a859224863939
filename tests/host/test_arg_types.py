"""Host lane: the argument types read through syscall tracepoints on this kernel.

bpf(2)'s cmd as bpf_cmd and its attr as bpf_attr (a real BPF_PROG_LOAD with a named
program), writev(2)'s iovec array as char_iovec, write(2)'s buffer as const_buf with its
size from another argument, connect(2)'s address as sockaddr_un (a path and an abstract
name): each comes out under the key and in the shape Tetragon writes. Only this test's own
process matches (matchPIDs), so other agents' traffic cannot interfere.

maxData: a 100 KB pwrite64 buffer comes out whole, a 400 KB one cut at Tetragon's limit; the
three segments (110 KB together) of a pwritev2 (Python's os.pwritev) come out whole as one
char_iovec; and a return probe (pwrite64 as a syscall kprobe with return: true) reads its
100 KB at the return.
"""
import base64
import ctypes
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigilhost as vh  # noqa: E402

PID = os.getpid()
MARK = b"vigil-argtypes-%d" % PID


def policy(name, event, args):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
          tracepoints:
          - subsystem: "syscalls"
            event: "%s"
            args:
        %s
            selectors:
            - matchPIDs:
              - operator: "In"
                followForks: false
                values: [%d]
        """) % (name, event, textwrap.indent(textwrap.dedent(args), "    "), PID)


# field indices count the format file's common fields (4) and __syscall_nr
POLICIES = {
    "bpf.yaml": policy("argtypes-bpf", "sys_enter_bpf", """\
        - index: 5
          type: "bpf_cmd"
        - index: 6
          type: "bpf_attr"
        """),
    "writev.yaml": policy("argtypes-writev", "sys_enter_writev", """\
        - index: 6
          type: "char_iovec"
          sizeArgIndex: 8
        - index: 7
          type: "int"
        """),
    "write.yaml": policy("argtypes-write", "sys_enter_write", """\
        - index: 6
          type: "const_buf"
          sizeArgIndex: 8
        - index: 7
          type: "size_t"
        """),
    "connect.yaml": policy("argtypes-connect", "sys_enter_connect", """\
        - index: 6
          type: "sockaddr_un"
        """),
    "maxdata.yaml": policy("argtypes-maxdata", "sys_enter_pwrite64", """\
        - index: 6
          type: "char_buf"
          sizeArgIndex: 8
          maxData: true
        - index: 7
          type: "size_t"
        """),
}

def return_policy(name, call, args):
    return textwrap.dedent("""\
        apiVersion: cilium.io/v1alpha1
        kind: TracingPolicy
        metadata:
          name: "%s"
        spec:
          kprobes:
          - call: "%s"
            syscall: true
            return: true
            returnArg:
              index: 0
              type: "int"
            args:
        %s
            selectors:
            - matchPIDs:
              - operator: "In"
                followForks: false
                values: [%d]
        """) % (name, call, textwrap.indent(textwrap.dedent(args), "    "), PID)


POLICIES["iovecmax.yaml"] = policy("argtypes-iovecmax", "sys_enter_pwritev2", """\
        - index: 6
          type: "char_iovec"
          sizeArgIndex: 8
          maxData: true
        - index: 7
          type: "int"
        """)
POLICIES["retmax.yaml"] = return_policy("argtypes-retmax", "sys_pwrite64", """\
        - index: 1
          type: "char_buf"
          sizeArgIndex: 3
          maxData: true
        - index: 2
          type: "size_t"
        """)

# maxData: 100 KB come out whole; past Tetragon's 327360 bytes the rest is cut, flagged and
# counted. pwrite64 so that only these two writes reach the policy.
BIG = bytes((i * 7 + i // 251) & 0xff for i in range(100 * 1024))
HUGE = bytes((i * 13) & 0xff for i in range(400 * 1024))
MAX_DATA = 327360
SEGMENTS = [bytes((i * 3 + k) & 0xff for i in range(n)) for k, n in ((1, 60 * 1024), (2, 50 * 1024), (3, 77))]
# more segments than are read (8), more bytes than maxData carries: cut at both bounds
MANY = [bytes([k]) * (64 * 1024) for k in range(16)]


class BpfAttr(ctypes.Structure):
    """The BPF_PROG_LOAD part of union bpf_attr, up to prog_name."""
    _fields_ = [("prog_type", ctypes.c_uint32), ("insn_cnt", ctypes.c_uint32), ("insns", ctypes.c_uint64),
                ("license", ctypes.c_uint64), ("log_level", ctypes.c_uint32), ("log_size", ctypes.c_uint32),
                ("log_buf", ctypes.c_uint64), ("kern_version", ctypes.c_uint32), ("prog_flags", ctypes.c_uint32),
                ("prog_name", ctypes.c_char * 16), ("pad", ctypes.c_char * 64)]


def load_socket_filter(name):
    """BPF_PROG_LOAD of "r0 = 0; exit" as a socket filter named name; returns the fd."""
    libc = ctypes.CDLL(None, use_errno=True)
    insns = (ctypes.c_uint64 * 2)(0x00000000000000b7, 0x0000000000000095)
    lic = ctypes.create_string_buffer(b"GPL")
    attr = BpfAttr(prog_type=1, insn_cnt=2, insns=ctypes.addressof(insns), license=ctypes.addressof(lic),
                   prog_name=name)
    fd = libc.syscall(321, 5, ctypes.byref(attr), ctypes.sizeof(attr))  # __NR_bpf, BPF_PROG_LOAD
    if fd < 0:
        raise OSError(ctypes.get_errno(), "BPF_PROG_LOAD")
    return fd


@vh.require_root
class ArgTypes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tmp = tempfile.mkdtemp(prefix="vigil-argtypes-")
        cls.unix_path = os.path.join(tmp, "listener.sock")
        cls.added = {}
        with vh.Agent() as agent:
            for name, text in POLICIES.items():
                path = os.path.join(tmp, name)
                with open(path, "w") as f:
                    f.write(text)
                cls.added[name] = subprocess.run(
                    [vh.VIGIL, "tracingpolicy", "add", path, "--control", agent.control],
                    capture_output=True, text=True)
            os.close(load_socket_filter(b"vg_argtypes"))
            with open(os.devnull, "wb") as null:
                os.writev(null.fileno(), [MARK + b"-a", MARK + b"-b"])
                os.write(null.fileno(), MARK + b"-const")
            listener = socket.socket(socket.AF_UNIX)
            listener.bind(cls.unix_path)
            listener.listen()
            abstract = socket.socket(socket.AF_UNIX)
            abstract.bind(b"\0" + MARK)
            abstract.listen()
            for addr in (cls.unix_path, b"\0" + MARK):
                with socket.socket(socket.AF_UNIX) as c:
                    c.connect(addr)
            listener.close()
            abstract.close()
            with open(os.devnull, "wb") as null:
                os.pwrite(null.fileno(), BIG, 0)
                os.pwrite(null.fileno(), HUGE, 0)
                os.pwritev(null.fileno(), SEGMENTS, 0)
                os.pwritev(null.fileno(), MANY, 0)
            time.sleep(0.5)
            cls.status = agent.status()
            cls.events = agent.events("json")

    def policy_events(self, name):
        self.assertEqual(self.added[name].returncode, 0, self.added[name].stderr)
        return [e["process_tracepoint"] for e in self.events
                if e.get("process_tracepoint", {}).get("policy_name") == "argtypes-" + name[:-5]]

    def test_bpf_cmd_and_bpf_attr(self):
        evs = self.policy_events("bpf.yaml")
        loads = [ev["args"] for ev in evs if ev["args"][0] == {"bpf_cmd_arg": "BPF_PROG_LOAD"}]
        self.assertIn([{"bpf_cmd_arg": "BPF_PROG_LOAD"},
                       {"bpf_attr_arg": {"ProgType": "BPF_PROG_TYPE_SOCKET_FILTER", "InsnCnt": 2,
                                         "ProgName": "vg_argtypes"}}], loads, evs)

    def test_char_iovec_concatenates_the_segments(self):
        evs = self.policy_events("writev.yaml")
        want = MARK + b"-a" + MARK + b"-b"
        got = [base64.b64decode(ev["args"][0]["bytes_arg"]) for ev in evs if "bytes_arg" in ev["args"][0]]
        self.assertIn(want, got, evs)
        self.assertIn({"int_arg": 2}, [ev["args"][1] for ev in evs])

    def test_const_buf_reads_as_many_bytes_as_its_size_argument(self):
        evs = self.policy_events("write.yaml")
        want = MARK + b"-const"
        got = [(base64.b64decode(ev["args"][0].get("bytes_arg", "")), ev["args"][1]) for ev in evs]
        self.assertIn((want, {"size_arg": str(len(want))}), got, evs)

    def test_sockaddr_un_path_and_abstract_name(self):
        evs = self.policy_events("connect.yaml")
        got = [ev["args"][0] for ev in evs]
        self.assertIn({"sockaddrun_arg": {"family": "AF_UNIX", "path": self.unix_path}}, got)
        self.assertIn({"sockaddrun_arg": {"family": "AF_UNIX", "path": "@" + MARK.decode()}}, got)

    def test_max_data_carries_100_kb_whole(self):
        evs = self.policy_events("maxdata.yaml")
        whole = [ev for ev in evs if ev["args"][1] == {"size_arg": str(len(BIG))}]
        self.assertEqual(len(whole), 1, [ev["args"][1] for ev in evs])
        self.assertEqual(base64.b64decode(whole[0]["args"][0]["bytes_arg"]), BIG)

    def test_max_data_on_char_iovec_carries_every_segment_whole(self):
        evs = self.policy_events("iovecmax.yaml")
        self.assertEqual([ev["args"][1] for ev in evs], [{"int_arg": len(SEGMENTS)}, {"int_arg": len(MANY)}], evs)
        self.assertEqual(base64.b64decode(evs[0]["args"][0]["bytes_arg"]), b"".join(SEGMENTS))

    def test_max_data_on_char_iovec_stops_at_8_segments_and_the_limit(self):
        evs = self.policy_events("iovecmax.yaml")
        cut = [ev["args"][0] for ev in evs if ev["args"][1] == {"int_arg": len(MANY)}]
        self.assertEqual(len(cut), 1, evs)
        t = cut[0]["truncated_bytes_arg"]
        self.assertEqual(t["orig_size"], str(8 * 64 * 1024))     # the 8 segments read
        self.assertEqual(base64.b64decode(t["bytes_arg"]), b"".join(MANY[:8])[:MAX_DATA])

    def test_max_data_on_a_return_probe_reads_the_buffer_at_the_return(self):
        self.assertEqual(self.added["retmax.yaml"].returncode, 0, self.added["retmax.yaml"].stderr)
        evs = [e["process_kprobe"] for e in self.events
               if e.get("process_kprobe", {}).get("policy_name") == "argtypes-retmax"]
        whole = [ev for ev in evs if ev["args"][1] == {"size_arg": str(len(BIG))}]
        self.assertEqual(len(whole), 1, [ev["args"][1] for ev in evs])
        self.assertEqual(whole[0]["return"], {"int_arg": len(BIG)})
        self.assertEqual(base64.b64decode(whole[0]["args"][0]["bytes_arg"]), BIG)

    def test_max_data_past_the_limit_is_cut_flagged_and_counted(self):
        evs = self.policy_events("maxdata.yaml")
        cut = [ev["args"][0] for ev in evs if ev["args"][1] == {"size_arg": str(len(HUGE))}]
        self.assertEqual(len(cut), 1)
        t = cut[0]["truncated_bytes_arg"]
        self.assertEqual(t["orig_size"], str(len(HUGE)))
        self.assertEqual(base64.b64decode(t["bytes_arg"]), HUGE[:MAX_DATA])
        c = self.status.get("counters", self.status)
        self.assertGreaterEqual(c["events_degraded_arg_truncated"], 1, c)


if __name__ == "__main__":
    vh.main()
