#!/usr/bin/python3
"""make_seeds.py - (re)build tests/fuzz/corpus/<target>/ from files the project ships.

Seeds are copies of shipped inputs (the Falco init_config of integrations/falco/*.yaml,
tests/unit goldens), or inputs
built from them in the format a target reads (msgpack from the golden JSON events, the
control requests the CLI sends, spool files as disk.c writes them). Run it from anywhere
with Debian's python3 (python3-msgpack, python3-yaml); it only adds and overwrites the
files it makes, so hand-written seeds and kept crash cases stay.
"""
import glob
import json
import os
import shutil
import struct

import msgpack
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def out(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def goldens():
    for src in sorted(glob.glob(os.path.join(ROOT, "tests/unit/golden/*.json"))):
        with open(src) as f:
            yield os.path.basename(src)[:-5], json.load(f)


# policy and lua_rule read rules/policies, tests/unit/policies and rules/lua in place
# (tests/fuzz/CMakeLists.txt SEEDS): no copies here to go stale

# bus_msg: the golden events as the agent publishes them (msgpack, key for key the JSON)
for name, ev in goldens():
    out("bus_msg", name + ".msgpack", msgpack.packb(ev))
    if name == "exec":
        # as the bus carries it: the delivery stamp appended (core/bus/bus.h)
        out("bus_msg", "exec_stamped.msgpack",
            msgpack.packb(dict(ev, vigil_seq=42, vigil_incarnation=0x7e6ada1e405aebbf)))

# export_filter: <filter JSON> NUL <field filter JSON> NUL <msgpack event>
FILTERS = [
    ('{"event_set":["PROCESS_EXEC","PROCESS_KPROBE"]}', '{"fields":"process.binary","event_set":["PROCESS_EXEC"]}'),
    ('{"binary_regex":["^/usr/bin/(curl|wget)$"],"pid":[4242]}', '{"fields":"process.pid,parent","action":"EXCLUDE"}'),
    ('{"pid_set":[1]}\n{"policy_names":["monitor-sensitive-files"]}',
     '{"fields":"process.arguments,args","action":"INCLUDE","event_set":["PROCESS_KPROBE"],"invert_event_set":true}'),
    ('[{"parent_binary_regex":["sh$"]},{"arguments_regex":["-c .*"]},{"health_check":false}]',
     '[{"fields":"process","action":"INCLUDE"},{"fields":"process.cap","action":"EXCLUDE"}]'),
]
events = list(goldens())
for i, (flt, fields) in enumerate(FILTERS):
    for name, ev in events[i::len(FILTERS)]:
        out("export_filter", "%d_%s" % (i, name), flt.encode() + b"\0" + fields.encode() + b"\0" + msgpack.packb(ev))

# control: sequences of requests as the CLI packs them, back to back
with open(os.path.join(ROOT, "tests/unit/policies/openat.yaml")) as f:
    OPENAT = f.read()
with open(os.path.join(ROOT, "rules/policies/lua-deny-exec.yaml")) as f:
    DENY = f.read()
deny_name = yaml.safe_load(DENY)["metadata"]["name"]
openat_name = yaml.safe_load(OPENAT)["metadata"]["name"]
CONTROL = {
    "status": [{"cmd": "status"}],
    "metrics": [{"cmd": "metrics"}],
    "lifecycle": [
        {"cmd": "policy_add", "yaml": OPENAT, "file": "openat.yaml"},
        {"cmd": "policy_list"},
        {"cmd": "policy_disable", "name": openat_name},
        {"cmd": "policy_enable", "name": openat_name},
        {"cmd": "policy_set_mode", "name": openat_name, "mode": "monitor"},
        {"cmd": "policy_list"},
        {"cmd": "policy_delete", "name": openat_name},
        {"cmd": "policy_delete", "name": openat_name},
    ],
    "list_add": [
        {"cmd": "policy_add", "yaml": DENY, "mode": "enforce"},
        {"cmd": "policy_list_add", "list": "lua-denied-binaries", "value": "/tmp/xmrig"},
        {"cmd": "policy_list_add", "list": "nosuch", "value": "x"},
        {"cmd": "status"},
    ],
    "rules": [{"cmd": "rules_list"}, {"cmd": "rules_reload"}],
    "rthooks": [{"cmd": "rthooks_create_container", "cgroupsPath": "/kubepods/pod1/c1", "podNamespace": "team-a",
                 "annotations": {"io.kubernetes.cri.sandbox-name": "web", "app": "web"}},
                {"cmd": "rthooks_create_container", "cgroupsPath": "kubepods-pod1.slice:cri-containerd:c1"},
                {"cmd": "rthooks_create_container", "annotations": ["x"]}],
    "eventlog": [{"cmd": "eventlog"}, {"cmd": "eventlog_set", "max_size": "1", "rotation_interval": "1h"},
                 {"cmd": "eventlog_set", "max_backups": 3}],
    "errors": [{"cmd": "nosuch"}, {"cmd": 1}, {"nocmd": "status"}, {"cmd": "policy_add"},
               {"cmd": "policy_set_mode", "name": "x", "mode": "loud"}],
}
for name, reqs in CONTROL.items():
    out("control", name, b"".join(msgpack.packb(r) for r in reqs))

# fwd_reply: what Fluent Bit and Fluentd answer (acks, HELO, PONG), back to back
CHUNK = "MTIzNDU2Nzg5MDEyMzQ1Njc4"  # 24 characters, as frame.c makes them
out("fwd_reply", "ack", msgpack.packb({"ack": CHUNK}))
out("fwd_reply", "two_acks", msgpack.packb({"ack": CHUNK}) + msgpack.packb({"ack": CHUNK[::-1]}))
out("fwd_reply", "helo", msgpack.packb(["HELO", {"nonce": b"0123456789abcdef", "auth": b"", "keepalive": True}]))
out("fwd_reply", "pong", msgpack.packb(["PONG", True, "", "server", "0" * 128]))
out("fwd_reply", "other_map", msgpack.packb({"status": "ok", "ack": 7}))


# fwd_spool: batch files as disk.c writes them: magic, version, nevents, len, chunk, message
def spool_file(nevents, chunk, message):
    return b"VFWD" + struct.pack("=III", 1, nevents, len(message)) + chunk.encode().ljust(24, b"\0") + message


forward = msgpack.packb(["vigil.process_exec", [[1733443200, ev] for _, ev in events[:2]], {"chunk": CHUNK}])
out("fwd_spool", "one_batch", spool_file(2, CHUNK, forward))
out("fwd_spool", "three_batches", spool_file(2, CHUNK, forward) + spool_file(1, "", b"\x93\xa1t\x90\x80")
    + spool_file(5, CHUNK[::-1], forward))
out("fwd_spool", "corrupt_then_good", b"VFWD\x02\0\0\0" + spool_file(2, CHUNK, forward))

# falco_config: the init_config of the shipped Falco and sysdig configurations, as JSON
for src in sorted(glob.glob(os.path.join(ROOT, "integrations/falco/*.yaml"))):
    with open(src) as f:
        doc = yaml.safe_load(f)
    for p in doc.get("plugins") or []:
        if "init_config" in p:
            out("falco_config", os.path.basename(src)[:-5], json.dumps(p["init_config"]))
out("falco_config", "types", '{"event_types":["exec","PROCESS_KPROBE","process_alert"],"batch_size":1,"timeout_ms":0}')
out("falco_config", "empty", "")
