#!/usr/bin/env python3
"""B13 and B14: a big board (issue 16).

B13: `taskboard run` (the TUI, board in-process, outer PTY 200x50) on a goal file of
10,000 tasks in nested groups: 50 areas, each with a sequential group (one live agent, then
49 agents waiting behind it), a parallel group of 50 signal gates (passed over HTTP, so
done), and a group of two groups of 50 agents each waiting on the live one (`after`).
The 50 live agents are `sh` loops that print a line a second, then stay quiet (`sleep`).
Measured: TUI frame times while they print (TASKBOARD_DRAW_LOG), the board's CPU while
nothing changes (its process tree, not the agents), `status --json` time, RSS.
Goals: frame p99 <= 5 ms, idle <= 1% of a core, status --json <= 200 ms, RSS <= 300 MB.

B14: the same board run in the background (`run --headless`), a TUI attached to it (200x50). Each change is a
gate passed over HTTP while the agents are quiet; measured: body bytes the attached TUI
reads from the board per change (its event stream and whatever it fetches; the draw log's
`rx=`) and time from the change's answer to the attached TUI's next frame. Done at 1,000 and at 10,000 tasks: the
bytes per change must not grow with the board. Goal: change -> frame <= 50 ms.

    cargo build --release && python3 bench/bigboard.py
    python3 bench/bigboard.py --quick --bin target/debug/taskboard   # the test suite's run

The last line is `RESULT {json}` for bench/run.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, threading, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import keylat  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
ROWS, COLS = 50, 200


def goal_toml(areas, per, stop):
    """areas x (1 live + (per-1) waiting) + per gates + 2 x per after-live) tasks."""
    live = ("i=0; while [ ! -e %s ]; do echo \"agent {task} tick $i: compiled, tested, 3 passed\"; i=$((i+1)); sleep 1; done; exec sleep 600" % stop)
    out = ['title = "big board"', "parallel = true"]
    for a in range(areas):
        out += ["[[task]]", f'title = "area {a}"', "parallel = true",
                "  [[task.task]]", f'  title = "area {a} work"',
                "    [[task.task.task]]", f'    key = "live{a}"', f'    title = "live agent {a}"',
                f"    command = {json.dumps(['sh', '-c', live])}", "    worktree = false"]
        for i in range(per - 1):
            out += ["    [[task.task.task]]", f'    title = "step {a}.{i}"', '    command = ["true"]', "    worktree = false"]
        out += ["  [[task.task]]", f'  title = "area {a} checks"', "  parallel = true"]
        for i in range(per):
            out += ["    [[task.task.task]]", f'    title = "check {a}.{i}"', '    kind = "signal"', '    gate = "bench"']
        out += ["  [[task.task]]", f'  title = "area {a} follow-ups"', "  parallel = true"]
        for g in range(2):
            out += ["    [[task.task.task]]", f'    title = "follow-ups {a}.{g}"', "    parallel = true"]
            for i in range(per):
                out += ["      [[task.task.task.task]]", f'      title = "follow-up {a}.{g}.{i}"', f'      after = ["live{a}"]',
                        '      command = ["true"]', "      worktree = false"]
    return "\n".join(out) + "\n"


def walk(nodes):
    for n in nodes:
        yield n
        yield from walk(n.get("children", []))


class Api:
    def __init__(self, data):
        with open(os.path.join(data, "endpoint")) as f:
            self.url = f.readline().strip()
        with open(os.path.join(data, "token")) as f:
            self.token = f.read().strip()

    def post(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status


class Big:
    """A data dir, config and goal file for one big board."""

    def __init__(self, binary, work, areas, per):
        self.bin, self.dir = binary, tempfile.mkdtemp(dir=work)
        self.data = os.path.join(self.dir, "data")
        self.stop = os.path.join(self.dir, "stop")
        self.cfg = os.path.join(self.dir, "config.toml")
        with open(self.cfg, "w") as f:
            f.write(f"max_agents = {areas + 10}\nspawns_per_minute = 100000\nbell = false\n")
        self.goal = os.path.join(self.dir, "big.toml")
        with open(self.goal, "w") as f:
            f.write(goal_toml(areas, per, self.stop))
        self.areas, self.per = areas, per
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TASKBOARD_")}

    def argv(self, *args):
        return [self.bin, "--data-dir", self.data, "--config", self.cfg, *args]

    def status(self):
        return self.parse(self.status_raw())

    def status_raw(self):
        """`status --json`'s run: (exit code, stdout)."""
        r = subprocess.run(self.argv("status", "--json"), capture_output=True, text=True, env=self.env)
        return r.returncode, r.stdout

    @staticmethod
    def parse(raw):
        code, out = raw
        return json.loads(out) if code == 0 and out.strip() else None

    def wait_live(self, fd=None, timeout=120):
        """Every live agent runs; returns the tree."""
        end = time.time() + timeout
        while time.time() < end:
            if fd is not None:
                keylat.drain(fd, 0.2)
            else:
                time.sleep(0.2)
            try:
                st = self.status()
            except ValueError:
                st = None
            if not st:
                continue
            tasks = list(walk(st["goals"]))
            live = [t for t in tasks if t["title"].startswith("live agent") and t["status"] == "active"]
            if len(live) >= self.areas:
                return tasks
        raise RuntimeError("the big board's agents did not all start")

    def gates(self, tasks):
        return [t["id"] for t in tasks if t["title"].startswith("check ") and t["status"] == "active"]


def pass_gates(api, ids):
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda i: api.post(f"/api/tasks/{i}/signal", {"status": "pass", "payload": {"summary": "ok"}}), ids))


def tree_cpu(root):
    """CPU seconds of `root` and its descendants on its own terminal (not the agents)."""
    table = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    x = f.read().rsplit(")", 1)[1].split()
                table[int(d)] = (int(x[1]), int(x[4]), int(x[11]) + int(x[12]))
            except (OSError, IndexError, ValueError):
                pass
    if root not in table:
        return 0.0
    tty, total, stack, seen = table[root][1], 0, [root], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        if p == root or table[p][1] == tty:
            total += table[p][2]
            stack += [c for c, v in table.items() if v[0] == p]
    return total / TICK


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def draws(path):
    """(millis, micros, bytes read from the board so far) of each frame so far."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) >= 4 and p[0] == "draw":
                    rx = next((int(x[3:]) for x in p if x.startswith("rx=")), 0)
                    out.append((int(p[2]), int(p[3].rstrip("us")), rx))
    except OSError:
        pass
    return out


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(round(len(v) * q)) - 1))] if v else float("nan")


def b13(binary, work, areas, per, window):
    b = Big(binary, work, areas, per)
    log = os.path.join(b.dir, "draws.log")
    env = dict(b.env, TERM="xterm-256color", TASKBOARD_DRAW_LOG=log)
    pid, fd = keylat.spawn(b.argv("run", b.goal), env)
    try:
        tasks = b.wait_live(fd)
        n_tasks = len(tasks)
        pass_gates(Api(b.data), b.gates(tasks))
        keylat.drain(fd, 2.0)
        d = threading.Thread(target=keylat.drain, args=(fd, window + 1.0), daemon=True)
        d.start()
        t0 = time.time() * 1000
        time.sleep(window)
        frames = [us / 1000 for ms, us, _ in draws(log) if ms >= t0]
        d.join()
        # Quiet: the agents stop printing but stay alive.
        open(b.stop, "w").close()
        keylat.drain(fd, 3.0)
        d = threading.Thread(target=keylat.drain, args=(fd, window + 0.5), daemon=True)
        d.start()
        c0, n0 = tree_cpu(pid), len(draws(log))
        time.sleep(window)
        idle = 100 * (tree_cpu(pid) - c0) / window
        idle_draws = len(draws(log)) - n0
        d.join()
        times = []
        for _ in range(5):
            # The command's own time: Python parsing its 8 MB answer is not part of it.
            t = time.perf_counter()
            raw = b.status_raw()
            times.append((time.perf_counter() - t) * 1000)
            st = b.parse(raw)
            if not st:
                raise RuntimeError("status --json failed on the big board")
        rss = rss_mb(pid)
        tasks = list(walk(b.status()["goals"]))
        counts = {s: sum(1 for t in tasks if t["status"] == s) for s in ("active", "pending", "done")}
    finally:
        keylat.stop(pid, fd, b"qy")
    return {"tasks": n_tasks, "counts": counts, "frames": len(frames), "frame_p50_ms": pct(frames, 0.5), "frame_p99_ms": pct(frames, 0.99),
            "frame_max_ms": max(frames) if frames else float("nan"), "idle_cpu_pct": idle, "idle_draws": idle_draws,
            "status_json_ms": statistics.median(times), "rss_mb": rss}


def b14(binary, work, areas, per, changes):
    b = Big(binary, work, areas, per)
    # The board in the background: `run --headless` (a goal file this big is over the
    # listener's 64 KiB body limit, so `up` + `add` cannot take it).
    board = subprocess.Popen(b.argv("run", b.goal, "--headless"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=b.env, cwd=b.dir)
    pid = fd = None
    try:
        tasks = b.wait_live()
        api = Api(b.data)
        gates = b.gates(tasks)
        keep = gates[:changes]
        pass_gates(api, gates[changes:])
        open(b.stop, "w").close()
        log = os.path.join(b.dir, "draws.log")
        pid, fd = keylat.spawn(b.argv(), dict(b.env, TERM="xterm-256color", TASKBOARD_DRAW_LOG=log))
        keylat.drain(fd, 3.0)
        if not draws(log):
            raise RuntimeError("the attached TUI never drew")
        sizes, lat = [], []
        for g in keep:
            keylat.drain(fd, 0.3)
            seen = draws(log)
            r0, n0 = seen[-1][2], len(seen)
            api.post(f"/api/tasks/{g}/signal", {"status": "pass", "payload": {"summary": "ok"}})
            t0 = time.time() * 1000
            end = time.time() + 5
            while time.time() < end and len(draws(log)) == n0:
                keylat.read_some(fd, 0.002)
            new = draws(log)[n0:]
            if not new:
                raise RuntimeError("the attached TUI did not draw the change")
            lat.append(max(0, new[0][0] - t0))
            keylat.drain(fd, 0.4)
            sizes.append(draws(log)[-1][2] - r0)
        return {"tasks": len(tasks), "changes": len(keep), "bytes_per_change": statistics.median(sizes),
                "bytes_max": max(sizes), "frame_p50_ms": statistics.median(lat), "frame_max_ms": max(lat)}
    finally:
        if pid:
            keylat.stop(pid, fd, b"q")
        board.terminate()
        try:
            board.wait(20)
        except subprocess.TimeoutExpired:
            board.kill()
            board.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="taskboard binary (default target/release/taskboard)")
    ap.add_argument("--quick", action="store_true", help="a board of ~500 tasks, short windows")
    a = ap.parse_args()
    root = os.path.dirname(HERE)
    binary = os.path.abspath(a.bin or os.path.join(root, "target", "release", "taskboard"))
    if not os.path.exists(binary):
        subprocess.run(["cargo", "build", "--release"], cwd=root, check=True)
    big, small = ((5, 20), (2, 20)) if a.quick else ((50, 50), (5, 50))
    window, changes = (2.0, 3) if a.quick else (10.0, 10)
    keylat.ROWS, keylat.COLS = ROWS, COLS
    work = tempfile.mkdtemp(prefix="tb-big-")  # the machine's disk
    try:
        r13 = b13(binary, work, *big, window)
        print(f"B13 big board, {r13['tasks']} tasks ({r13['counts']['active']} active, {r13['counts']['pending']} pending, "
              f"{r13['counts']['done']} done): frame p50 {r13['frame_p50_ms']:.2f} ms, p99 {r13['frame_p99_ms']:.2f} ms "
              f"(max {r13['frame_max_ms']:.2f}, {r13['frames']} frames in {window:.0f} s of agents printing); "
              f"idle board {r13['idle_cpu_pct']:.2f}% CPU ({r13['idle_draws']} draws); status --json {r13['status_json_ms']:.0f} ms; "
              f"RSS {r13['rss_mb']:.0f} MB", flush=True)
        r_small = b14(binary, work, *small, changes)
        r14 = b14(binary, work, *big, changes)
        for r in (r_small, r14):
            print(f"B14 attached TUI, {r['tasks']} tasks: {r['bytes_per_change']:.0f} B read per change (max {r['bytes_max']}), "
                  f"change -> frame median {r['frame_p50_ms']:.0f} ms, max {r['frame_max_ms']:.0f} ms ({r['changes']} changes)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ok13 = r13["frame_p99_ms"] <= 5 and r13["idle_cpu_pct"] <= 1 and r13["status_json_ms"] <= 200 and r13["rss_mb"] <= 300
    growth = r14["bytes_per_change"] / max(r_small["bytes_per_change"], 1)
    ok14 = growth <= 1.5 and r14["frame_max_ms"] <= 50
    result = {
        "B13": {"raw": r13, "table": {
            "panes": "TUI 50x200", "retention": "-",
            "ours": f"frame p50 {r13['frame_p50_ms']:.2f} ms, p99 {r13['frame_p99_ms']:.2f} ms; idle {r13['idle_cpu_pct']:.2f}% CPU; "
                    f"status --json {r13['status_json_ms']:.0f} ms; RSS {r13['rss_mb']:.0f} MB ({r13['tasks']} tasks)",
            "goal": "p99 <= 5 ms, idle <= 1%, status <= 200 ms, RSS <= 300 MB", "met": ok13}},
        "B14": {"raw": {"small": r_small, "big": r14}, "table": {
            "panes": "TUI 50x200", "retention": "-",
            "ours": f"{r14['bytes_per_change']:.0f} B/change at {r14['tasks']} tasks ({r_small['bytes_per_change']:.0f} at {r_small['tasks']}); "
                    f"change -> frame median {r14['frame_p50_ms']:.0f} ms, max {r14['frame_max_ms']:.0f} ms",
            "ratio": f"bytes {growth:.2f}x for {r14['tasks'] / r_small['tasks']:.0f}x tasks",
            "goal": "bytes/change independent of tasks; change -> frame <= 50 ms", "met": ok14}},
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
