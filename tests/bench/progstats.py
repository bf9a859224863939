"""progstats - kernel time per BPF program, from the kernel's own counters.

With kernel.bpf_stats_enabled=1 the kernel adds each run's time (run_time_ns) and count
(run_cnt) to every program; `bpftool prog show` reports both, and a process's fdinfo says which
programs it holds. The counters cost a clock read per run while enabled, so they are on only inside
`ProgStats` (and put back as found), and the ratios of a wall-time benchmark are measured
with them off.

    with ProgStats(pid) as ps:      # the programs a process (an agent) holds
        run_the_storm()
    for row in ps.rows():           # name, runs, ns per run, total ms
        ...

Also a tool: `progstats.py PID -- COMMAND...` runs COMMAND with the counters on and prints
the programs PID holds, costliest first.
"""
import json
import os
import subprocess
import sys

SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"


def held_prog_ids(pid):
    """The ids of the programs a process holds open (program and link fds): its fdinfo says."""
    ids = set()
    fdinfo = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


def _progs(pids):
    ids = set().union(*(held_prog_ids(p) for p in pids)) if pids is not None else None
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True, check=True)
    progs = {}
    for p in json.loads(out.stdout or "[]"):
        if ids is not None and p["id"] not in ids:
            continue
        progs[p["id"]] = (p.get("name", "?"), p.get("type", "?"), p.get("run_cnt", 0), p.get("run_time_ns", 0))
    return progs


class ProgStats:
    def __init__(self, *pids):
        self.pids = set(pids) if pids else None
        self.before = self.after = {}
        self.was = "0"

    def __enter__(self):
        with open(SYSCTL) as f:
            self.was = f.read().strip()
        with open(SYSCTL, "w") as f:
            f.write("1")
        self.before = _progs(self.pids)
        return self

    def __exit__(self, *exc):
        self.after = _progs(self.pids)
        with open(SYSCTL, "w") as f:
            f.write(self.was)
        return False

    def rows(self):
        """(name, type, runs, ns per run, total ms) per program that ran, costliest first."""
        rows = []
        for pid, (name, typ, cnt, ns) in self.after.items():
            _, _, cnt0, ns0 = self.before.get(pid, (name, typ, 0, 0))
            runs, t = cnt - cnt0, ns - ns0
            if runs > 0:
                rows.append((name, typ, runs, t / runs, t / 1e6))
        return sorted(rows, key=lambda r: -r[4])


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print("usage: progstats.py PID -- COMMAND...", file=sys.stderr)
        return 2
    with ProgStats(int(sys.argv[1])) as ps:
        subprocess.run(sys.argv[3:], check=True)
    print("%-16s %-14s %10s %9s %9s" % ("program", "type", "runs", "ns/run", "total ms"))
    for name, typ, runs, per, total in ps.rows():
        print("%-16s %-14s %10d %9.1f %9.1f" % (name, typ, runs, per, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
