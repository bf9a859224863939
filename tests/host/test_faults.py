"""Host lane: faults. The agent must stay up, bounded and answering whatever its peers do.

- Ring-buffer overflow: a 4 KiB ring buffer under an exec storm. The agent stays up, its
  memory stays bounded, and every exec the kernel saw is accounted for exactly: exec records
  read + exec records the kernel could not submit == runs of the agent's exec program.
- Stalled subscribers (nanomsg SUBs stopped with SIGSTOP, raw SUB peers that never read)
  and garbage peers (random bytes on the bus and control sockets, malformed msgpack, half a
  request, replies never read, hundreds of idle control connections): events keep reaching
  a healthy subscriber exactly, `vigil status` answers within a bound, malformed requests
  are counted (control_bad_requests) and dropped, and no connection is leaked.
- 500 policy add/delete cycles (200 under ASan) while exec events flow: no growth
  in the agent's BPF maps, programs, links, fds, memory or hook id table; deleted policies are freed.

Figures are printed (FAULTS: ...) for the record.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import spwire  # noqa: E402
import vigilhost as vh  # noqa: E402

TRUE = os.path.realpath("/bin/true")
EXEC_STORM = os.path.join(vh.BUILD, "tests", "bench", "exec_storm")
with open(vh.VIGILD, "rb") as _f:
    ASAN = b"libasan" in _f.read()	# its quarantine and shadow make RSS no measure of ours
# 500 cycles show a leak of the size this test was written for (~20 kB a cycle) five times
# over its 4 MB bound. Under ASan the RSS check is off and object and fd counts show a leak
# from one cycle, so fewer cycles find the same bugs at a quarter of the time.
CYCLES = int(os.environ.get("VIGIL_FAULT_CYCLES", "200" if ASAN else "500"))


def figure(what, value):
    print("FAULTS: %s: %s" % (what, value), file=sys.stderr, flush=True)


def marker(tmp, name):
    """A copy of /bin/true under a unique name: its events are ours alone."""
    p = os.path.join(tmp, "vigil-fault-" + name)
    shutil.copy(TRUE, p)
    os.chmod(p, 0o755)
    return p


def storm(path, n, workers=1):
    """n fork+execs of path, split over parallel workers."""
    each = [n // workers + (i < n % workers) for i in range(workers)]
    if os.access(EXEC_STORM, os.X_OK):
        cmds = [[EXEC_STORM, str(k), path] for k in each]
    else:	# the ASan build has no benchmarks
        cmds = [["/bin/sh", "-c", "i=0; while [ $i -lt %d ]; do %s; i=$((i+1)); done" % (k, path)] for k in each]
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL) for c in cmds]
    for p in procs:
        assert p.wait() == 0


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])	# kB
    raise KeyError(key)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def owned_bpf(pid):
    """{"map": ids, "prog": ids, "link": ids} the agent holds an fd on (others' agents run here too)."""
    out = {"map": set(), "prog": set(), "link": set()}
    d = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as fh:
                for line in fh:
                    for kind in out:
                        if line.startswith(kind + "_id:"):
                            out[kind].add(int(line.split()[1]))
        except OSError:
            pass
    return out



@vh.require_root
class RingbufOverflow(unittest.TestCase):
    """4 KiB of ring buffer, a storm of execs (the reader stopped for its first 500): loss is
    counted to the record, memory stays put."""
    N = 5000

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-fault-")
        cls.mark = marker(cls.tmp, "storm")
        # --metrics-server keeps BPF run counts on; --poll-ms 5: records are read within 5 ms
        with vh.Agent("--rb-size", "4096", "--metrics-server", "127.0.0.1:%d" % vh.free_port(), "--poll-ms", "5",
                      outputs=("json",)) as agent:
            pid = agent.proc.pid
            cls.before = cls.quiet(agent)
            cls.rss0 = proc_status(pid, "VmRSS")
            peak = [cls.rss0]
            done = threading.Event()

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], proc_status(pid, "VmRSS"))
                    time.sleep(0.05)
            t = threading.Thread(target=sample)
            t.start()
            t0 = time.monotonic()
            # the reader keeps up with a storm now (time-bound wake-ups, active polling): it
            # is stopped for the first 500 execs, which 4 KiB cannot hold, then reads on
            os.kill(pid, signal.SIGSTOP)
            try:
                storm(cls.mark, 500)
            finally:
                os.kill(pid, signal.SIGCONT)
            storm(cls.mark, cls.N - 500, workers=2)
            cls.storm_s = time.monotonic() - t0
            done.set()
            t.join()
            cls.after = cls.quiet(agent)
            cls.alive = agent.proc.poll() is None
            cls.rss_peak = peak[0]
            cls.hwm = proc_status(pid, "VmHWM")
            cls.rss1 = proc_status(pid, "VmRSS")
            st = spwire.timed_status(agent.control)[1]
            cls.marker_read = st["metrics"].get(
                'vigil_events_total{type="PROCESS_EXEC",binary="%s",policy=""}' % cls.mark, 0)
            cls.rc = agent.stop()
            cls.log = agent.read_log()
        d = {k: cls.after[k] - cls.before[k] for k in cls.after}
        cls.delta = d
        figure("storm", "%d execs of the marker in %.2f s" % (cls.N, cls.storm_s))
        figure("storm exec accounting", "program runs %d = exec records read %d + lost %d (all lost records %d)"
               % (d["runs"], d["exec_records"], d["lost_exec"], d["lost"]))
        figure("storm marker", "marker exec events read %d + lost execs %d vs %d performed"
               % (cls.marker_read, d["lost_exec"], cls.N))
        figure("storm RSS", "before %d kB, peak sampled %d kB, VmHWM %d kB, after %d kB"
               % (cls.rss0, cls.rss_peak, cls.hwm, cls.rss1))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @staticmethod
    def quiet(agent):
        """Counters at a moment when no exec is in flight (other engineers exec too, ~40/s):
        the exec program's run count and the exec counters unchanged across 40 ms, read
        over the control socket (`vigil status` or bpftool would be execs themselves)."""
        def read():
            st = spwire.timed_status(agent.control)[1]
            runs = [v for k, v in st["metrics"].items()
                    if k.startswith("vigil_bpf_prog_run_count_total{") and k.endswith('_exec"}')]
            assert len(runs) == 1, runs
            c = st["counters"]
            return {"runs": runs[0], "exec_records": c["exec_records"], "lost_exec": c["kernel_ringbuf_full_exec"],
                    "lost": c["kernel_ringbuf_full"]}
        for _ in range(1000):
            r1 = read()
            time.sleep(0.04)
            r2 = read()
            if r1 == r2:
                return r1
        raise AssertionError("the exec counters never stood still")

    def test_agent_stays_up_through_the_storm_and_stops_cleanly(self):
        self.assertTrue(self.alive, self.log)
        self.assertEqual(self.rc, 0, self.log)

    def test_the_storm_overflowed_the_ring_buffer(self):
        self.assertGreater(self.delta["lost_exec"], 0)
        self.assertGreaterEqual(self.delta["lost"], self.delta["lost_exec"])

    def test_every_exec_is_either_read_or_counted_lost_exactly(self):
        d = self.delta
        self.assertGreaterEqual(d["runs"], self.N)
        self.assertEqual(d["exec_records"] + d["lost_exec"], d["runs"])

    def test_marker_events_read_plus_loss_cover_the_execs_performed(self):
        self.assertLessEqual(self.marker_read, self.N)
        self.assertGreaterEqual(self.marker_read + self.delta["lost_exec"], self.N)
        # the loss beyond the marker's is other processes' execs during the storm
        self.assertLessEqual(self.marker_read + self.delta["lost_exec"] - self.N, self.delta["runs"] - self.N)

    @unittest.skipIf(ASAN, "RSS under AddressSanitizer measures its quarantine")
    def test_memory_stays_bounded(self):
        # the ring buffer is 4 KiB; nothing else may grow with the number of execs
        self.assertLess(self.hwm - self.rss0, 32 * 1024, (self.rss0, self.hwm))
        self.assertLess(self.rss1 - self.rss0, 16 * 1024, (self.rss0, self.rss1))


def sp_garbage_connections(url, n_random, proto):
    """Peers that send random bytes before (or instead of) the SP header, and peers that
    send a valid header then garbage frames. Returns the open sockets."""
    socks = []
    for i in range(n_random):
        s = spwire.connect(url)
        s.sendall(os.urandom(64 + i))
        socks.append(s)
    for i in range(n_random):
        s = spwire.connect(url)
        s.sendall(spwire.header(proto))
        s.sendall(b"\x07" + os.urandom(40))	# unknown message type
        socks.append(s)
    return socks


@vh.require_root
class StalledAndGarbagePeers(unittest.TestCase):
    """Everything a broken or hostile peer can do to the bus and the control socket."""
    N = 2000	# enough for the stalled subscribers' 4 MiB queues to overflow
    IDLE = 300

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-fault-")
        cls.mark = marker(cls.tmp, "flow")
        cls.socks = []
        cls.stopped = []
        with vh.Agent(outputs=("json",)) as agent:
            pid = agent.proc.pid
            cls.fds0 = fd_count(pid)
            cls.rss0 = proc_status(pid, "VmRSS")
            cls.t_status_quiet = max(spwire.timed_status(agent.control)[0] for _ in range(5))
            cls.bad0 = agent.status()["counters"]["control_bad_requests"]
            cls.sent_bad = cls.attack(agent)
            attacked = time.monotonic()
            # events flow to the healthy subscriber while every bad peer holds on
            storm(cls.mark, cls.N)
            times = []
            for _ in range(10):
                times.append(spwire.timed_status(agent.control)[0])
            t0 = time.monotonic()
            r = subprocess.run([vh.VIGIL, "status", "--control", agent.control, "-o", "json"],
                               capture_output=True, text=True, timeout=30)
            cls.t_cli = time.monotonic() - t0
            cls.cli_ok = r.returncode == 0
            cls.t_status = times
            # every bad connection has had its 2 s by now, and was counted when it was cut
            time.sleep(max(0.0, attacked + 3.0 - time.monotonic()))
            cls.counters = agent.status()["counters"]
            cls.fds_attacked = fd_count(pid)
            cls.hwm = proc_status(pid, "VmHWM")
            cls.events = agent.events("json", settle=1.0)
            # every bad peer gone: connections are released
            for s in cls.socks:
                s.close()
            for p in cls.stopped:
                p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait()
            deadline = time.time() + 10
            while time.time() < deadline and fd_count(pid) > cls.fds0:
                time.sleep(0.2)
            cls.fds1 = fd_count(pid)
            cls.alive = agent.proc.poll() is None
            cls.rc = agent.stop()
            cls.log = agent.read_log()
        figure("status time, quiet", "%.4f s (max of 5)" % cls.t_status_quiet)
        figure("status time under garbage", "max %.4f s, median %.4f s over 10; vigil status CLI %.3f s"
               % (max(cls.t_status), sorted(cls.t_status)[5], cls.t_cli))
        figure("malformed control requests", "%d malformed requests + %d connections without a whole "
               "request, counted %d" % (cls.sent_bad, cls.bad_conns, cls.counters["control_bad_requests"] - cls.bad0))
        figure("status time while %d idle control peers hold on" % cls.IDLE, "%.4f s" % cls.t_status_full)
        figure("agent fds", "before %d, %d idle control peers held %d, 2 s later %d, after %d"
               % (cls.fds0, cls.IDLE, cls.fds_idle, cls.fds_attacked, cls.fds1))
        figure("bus", "sent %d, dropped %d (for the stalled subscribers)"
               % (cls.counters["bus_sent"], cls.counters["bus_dropped"]))
        figure("agent memory with stalled subscribers", "VmRSS before %d kB, VmHWM %d kB" % (cls.rss0, cls.hwm))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def attack(cls, agent):
        """Open every bad peer; return how many whole malformed requests were sent."""
        # stalled subscribers: real nanomsg SUBs, stopped; raw SUB peers that never read
        for _ in range(2):
            p = subprocess.Popen([vh.VIGIL, "getevents", "-o", "json", "--bus", agent.bus],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            cls.stopped.append(p)
        time.sleep(0.3)
        for p in cls.stopped:
            p.send_signal(signal.SIGSTOP)
        for _ in range(4):
            s = spwire.connect(agent.bus)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            spwire.handshake(s, spwire.NN_SUB, spwire.NN_PUB)
            cls.socks.append(s)
        # garbage on the bus
        cls.socks += sp_garbage_connections(agent.bus, 5, spwire.NN_SUB)
        # garbage on the control socket: random bytes, lengths beyond its 64 MiB limit; the
        # server counts each connection that brings no whole request as one bad request
        cls.bad_conns = 10 + 3 + cls.IDLE	# these two, the half requests, the idle ones
        for i in range(5):
            s = spwire.connect(agent.control)
            s.sendall(os.urandom(64 + i))
            cls.socks.append(s)
            s = spwire.connect(agent.control)
            s.sendall(b"\xff\xff\xff\xff" + os.urandom(32))
            cls.socks.append(s)
        bad = 0
        malformed = [
            b"",
            os.urandom(1),
            os.urandom(300),
            b"\x81\xa3cmd",			# truncated map
            b"\x93\x01\x02\x03",			# an array, not a map
            b"\x81\xa3cmd\x07",			# cmd is not a string
            b"\x81\xa4name\xa3foo",		# no cmd
            b"\x81\xa3cmd\xa6status\xc0",		# trailing bytes
            b"\x81\xa3cmd\xa7no_such",		# unknown command
            b"\xdf\xff\xff\xff\xff",		# a map claiming 4 G entries
            b"\xdb\xff\xff\xff\xf0abc",		# a string claiming 4 GB
        ]
        c = spwire.Control(agent.control)
        for payload in malformed:
            reply = spwire.unpack(c.request_raw(payload))[0]
            assert reply.get("ok") is False, (payload, reply)
            bad += 1
        for _ in range(20):
            reply = spwire.unpack(c.request_raw(os.urandom(50)))[0]
            assert reply.get("ok") is False, reply
            bad += 1
        c.close()
        # half a request: the frame announces 1 MB, 100 bytes come, then nothing
        for _ in range(3):
            s = spwire.connect(agent.control)
            s.sendall(struct.pack(">I", 1 << 20) + os.urandom(100))
            cls.socks.append(s)
        # replies never read: clients ask for status and never read
        for _ in range(20):
            s = spwire.connect(agent.control)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            req = spwire.pack({"cmd": "status"})
            s.sendall(struct.pack(">I", len(req)) + req)
            cls.socks.append(s)
        # idle control connections: connected, never a byte
        for _ in range(cls.IDLE):
            cls.socks.append(spwire.connect(agent.control))
        time.sleep(0.3)
        cls.fds_idle = fd_count(agent.proc.pid)
        # while they all hold on, a new client still gets in
        cls.t_status_full = spwire.timed_status(agent.control)[0]
        return bad

    def test_agent_stays_up_and_stops_cleanly(self):
        self.assertTrue(self.alive, self.log)
        self.assertEqual(self.rc, 0, self.log)

    def test_healthy_subscriber_gets_every_marker_event(self):
        execs = vh.find(self.events, "process_exec", lambda e: e["process"].get("binary") == self.mark)
        exits = vh.find(self.events, "process_exit", lambda e: e["process"].get("binary") == self.mark)
        self.assertEqual(len(execs), self.N)
        self.assertEqual(len(exits), self.N)

    def test_status_answers_within_a_bound_under_garbage(self):
        self.assertTrue(self.cli_ok)
        self.assertLess(max(self.t_status), 1.0, self.t_status)
        self.assertLess(self.t_status_full, 1.0)
        self.assertLess(self.t_cli, 2.0)

    def test_malformed_requests_are_counted_and_dropped(self):
        self.assertEqual(self.counters["control_bad_requests"] - self.bad0, self.sent_bad + self.bad_conns)

    def test_stalled_subscribers_lose_messages_alone(self):
        # 2 stopped `vigil getevents` and 4 raw peers that never read, 4 MiB queue each
        self.assertGreater(self.counters["bus_dropped"], 0)
        if not ASAN:	# 6 queues of at most 4 MiB (8 MiB allocated)
            self.assertLess(self.hwm - self.rss0, 96 * 1024, (self.rss0, self.hwm))

    def test_connections_of_bad_peers_are_released(self):
        # the control server gives each peer 2 s to send its request and read its reply
        self.assertGreaterEqual(self.fds_idle, self.fds0 + 200)
        self.assertLess(self.fds_attacked, self.fds0 + 40)
        self.assertLessEqual(self.fds1, self.fds0 + 2, (self.fds0, self.fds1))


def cycle_policy(name):
    # sched_process_exec fires for every exec, in the tracepoint class every policy can use
    return ("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: \"%s\"\nspec:\n"
            "  tracepoints:\n  - subsystem: \"sched\"\n    event: \"sched_process_exec\"\n" % name)


@vh.require_root
class PolicyCycles(unittest.TestCase):
    """add/delete one policy CYCLES times over the control socket while execs flow."""
    WARMUP = 100

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-fault-")
        cls.mark = marker(cls.tmp, "cycle")
        with vh.Agent(outputs=()) as agent:
            pid = agent.proc.pid
            stop = threading.Event()
            cls.flow_execs = 0

            def flow():
                while not stop.is_set():
                    subprocess.run([cls.mark])
                    cls.flow_execs += 1
                    time.sleep(0.005)
            t = threading.Thread(target=flow)
            t.start()
            try:
                c = spwire.Control(agent.control, timeout=30)
                yaml = cycle_policy("fault-cycle")
                # keep one policy loaded throughout, so "no growth" is not "nothing loaded"
                assert c.request(cmd="policy_add", yaml=cycle_policy("fault-steady"))["ok"]

                cls.pcache_max = 0

                def cycles(n):
                    for i in range(n):
                        if i % 50 == 0:	# how many processes the cache held (others run storms here)
                            cls.pcache_max = max(cls.pcache_max, c.request(cmd="status")["counters"]["pcache_size"])
                        a = c.request(cmd="policy_add", yaml=yaml)
                        assert a["ok"], a
                        d = c.request(cmd="policy_delete", name="fault-cycle")
                        assert d["ok"], d

                cycles(cls.WARMUP)
                cls.before = cls.measure(agent, c)
                cls.pcache_max = cls.before["pcache_size"]
                t0 = time.monotonic()
                cycles(CYCLES)
                cls.cycle_s = time.monotonic() - t0
                cls.after = cls.measure(agent, c)
                cls.policies = c.request(cmd="policy_list")["policies"]
                c.close()
            finally:
                stop.set()
                t.join()
            cls.alive = agent.proc.poll() is None
            cls.rc = agent.stop()
            cls.log = agent.read_log()
        b, a = cls.before, cls.after
        figure("policy cycles", "%d add/delete cycles in %.1f s (%.1f ms each), %d marker execs meanwhile"
               % (CYCLES, cls.cycle_s, 1000 * cls.cycle_s / CYCLES, cls.flow_execs))
        for k in ("fds", "maps", "progs", "links", "rss_kb", "hook_id_slots", "hook_ids_in_use",
                  "policies_retired", "policy_records", "unknown_hook", "pcache_size"):
            figure("cycles %s" % k, "after warm-up %s, after %d cycles %s" % (b[k], CYCLES, a[k]))
        figure("cycles pcache_size peak", cls.pcache_max)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @staticmethod
    def measure(agent, c):
        # the reader frees deleted policies once it drained past them: give it a moment
        deadline = time.time() + 10
        while True:
            counters = c.request(cmd="status")["counters"]
            if counters["policies_retired"] == 0 or time.time() > deadline:
                break
            time.sleep(0.1)
        pid = agent.proc.pid
        # the control server closes a connection on its own thread just after replying:
        # the smallest of a few readings is the agent at rest
        samples = []
        for _ in range(5):
            time.sleep(0.1)
            bpf = owned_bpf(pid)
            samples.append((fd_count(pid), len(bpf["map"]), len(bpf["prog"]), len(bpf["link"])))
        fds, maps, progs, links = min(samples)
        return {"fds": fds, "maps": maps, "progs": progs,
                "links": links, "rss_kb": proc_status(pid, "VmRSS"),
                "hook_id_slots": counters["hook_id_slots"], "hook_ids_in_use": counters["hook_ids_in_use"],
                "policies_retired": counters["policies_retired"], "policy_records": counters["policy_records"],
                "unknown_hook": counters["policy_records_unknown_hook"], "pcache_size": counters["pcache_size"]}

    def test_agent_stays_up_and_stops_cleanly(self):
        self.assertTrue(self.alive, self.log)
        self.assertEqual(self.rc, 0, self.log)

    def test_events_flowed_through_the_policies_during_the_cycles(self):
        self.assertGreater(self.flow_execs, 100)
        self.assertGreater(self.after["policy_records"], self.before["policy_records"])

    def test_only_the_steady_policy_is_left(self):
        self.assertEqual([p["name"] for p in self.policies], ["fault-steady"])

    def test_no_growth_in_bpf_objects_or_fds(self):
        for k in ("fds", "maps", "progs", "links"):
            self.assertEqual(self.after[k], self.before[k], k)

    def test_deleted_policies_are_freed_and_their_ids_reused(self):
        self.assertEqual(self.after["policies_retired"], 0)
        self.assertEqual(self.after["hook_ids_in_use"], 1)	# the steady policy's hook
        # slots are as many as policies were ever loaded or awaiting the reader at once
        # (a few: the reader frees them 200 ms after their detach), not one per cycle
        self.assertLess(self.after["hook_id_slots"], 16)

    @unittest.skipIf(ASAN, "RSS under AddressSanitizer measures its quarantine")
    def test_agent_memory_does_not_grow_with_the_cycles(self):
        # before retired policies were freed, each cycle kept ~20 kB (500 cycles: ~10 MB).
        # The process cache is not the policies': other engineers' process storms on this
        # machine grow it, so its peak growth is allowed for (4 kB an entry, arguments included).
        allowance = 4 * max(0, self.pcache_max - self.before["pcache_size"])
        self.assertLess(self.after["rss_kb"] - self.before["rss_kb"], 4096 + allowance,
                        (self.before, self.after, self.pcache_max))


if __name__ == "__main__":
    vh.main()
