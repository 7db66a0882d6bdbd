#!/usr/bin/env python3
"""Attaching the TUI to a board that runs in the background (`taskboard up`).

1. Attach after 100 MB: an agent prints 100 MB, then a marker line, then waits. We start
   the TUI in an outer PTY we own (200x50) and time until the marker is on screen (the
   first frame that shows the pane's bounded tail; it also times the very first frame).
   tmux is measured the same way in the same run: `tmux attach` to a session whose pane
   printed the same 100 MB. Goal (issue "Detach and attach"): under 2 s.
2. Two attached TUIs: we approve a review gate in one (key `a` in the decision dialog) and
   time until the other draws the gate done (its first `✔` after the key). Goal: 200 ms.

    cargo build --release && python3 bench/attach.py       # 100 MB, 5 attaches, 10 approvals
    python3 bench/attach.py --quick --bin target/debug/taskboard   # the tests' smoke run
"""
import argparse, os, select, shutil, signal, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keylat import ROWS, COLS, spawn  # noqa: E402  (an outer PTY of 200x50)

MARK = b"END-OF-FLOOD"
DONE = "\u2714".encode()  # the tree's "done" glyph


def read_until(fd, needle, timeout, keep=1 << 16):
    """Reads until `needle` shows up; the time it did (or None) and the tail read."""
    end = time.perf_counter() + timeout
    out = b""
    while True:
        left = end - time.perf_counter()
        if left <= 0:
            return None, out
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:
            return None, out
        if not chunk:
            return None, out
        out = (out + chunk)[-keep:]
        if needle in out:
            return time.perf_counter(), out


def drain(fd, secs):
    read_until(fd, b"\0never\0", secs)


def stop(pid, fd):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    os.close(fd)


class Board:
    """`taskboard up` on a data dir of its own; `down --force` at the end."""

    def __init__(self, binary, work):
        self.bin = binary
        self.dir = tempfile.mkdtemp(dir=work)
        self.data = os.path.join(self.dir, "data")
        self.config = os.path.join(self.dir, "config.toml")
        with open(self.config, "w") as f:
            f.write("spawns_per_minute = 1000\n")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TASKBOARD_")}
        self.run("up")

    def argv(self, *args):
        return [self.bin, "--data-dir", self.data, "--config", self.config, *args]

    def run(self, *args):
        r = subprocess.run(self.argv(*args), env=self.env, cwd=self.dir, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"taskboard {' '.join(args)} failed: {r.stdout}{r.stderr}")
        return r.stdout

    def add(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        self.run("add", path)

    def tui(self):
        return spawn(self.argv(), self.env)

    def down(self):
        subprocess.run(self.argv("down", "--force"), env=self.env, capture_output=True)


def flood_cmd(size):
    return f"yes 'flood line: the agent printed this long ago 0123456789' | head -c {size}; echo {MARK.decode()}; exec sleep 600"


def wait_log(path, size, timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if os.path.getsize(path) > size:
                with open(path, "rb") as f:
                    f.seek(-200, 2)
                    if MARK in f.read():
                        return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def attach_taskboard(binary, work, size, reps):
    b = Board(binary, work)
    try:
        goal = f'title = "flood"\n[[task]]\ntitle = "flood"\ncommand = ["sh", "-c", "{flood_cmd(size)}"]\nworktree = false\n'
        b.add("flood.toml", goal)
        if not wait_log(os.path.join(b.data, "logs", "2.log"), size):
            sys.exit("the flooding agent never finished")
        firsts, tails = [], []
        for _ in range(reps):
            t0 = time.perf_counter()
            pid, fd = b.tui()
            t1, out = read_until(fd, b"Goals", 30)
            t2, out = read_until(fd, MARK, 30) if MARK not in out else (t1, out)
            if t1 is None or t2 is None:
                sys.exit("the attached TUI never showed the pane's end")
            firsts.append((t1 - t0) * 1000)
            tails.append((t2 - t0) * 1000)
            drain(fd, 0.3)
            os.write(fd, b"q")
            read_until(fd, b"\0", 2)
            stop(pid, fd)
        return firsts, tails
    finally:
        b.down()


def attach_tmux(work, size, reps):
    sock = f"tb-attach-{os.getpid()}"
    tm = ["tmux", "-L", sock, "-f", "/dev/null"]
    log = os.path.join(tempfile.mkdtemp(dir=work), "flood.log")
    try:
        subprocess.run(tm + ["new-session", "-d", "-x", str(COLS), "-y", str(ROWS),
                             "sh", "-c", f"({flood_cmd(size)}) | tee /dev/null; exec sleep 600"], check=True)
        subprocess.run(tm + ["set-option", "-g", "history-limit", "1000"], check=True)
        subprocess.run(tm + ["pipe-pane", "-o", f"cat > {log}"], check=True)
        end = time.time() + 300
        while time.time() < end:
            cap = subprocess.run(tm + ["capture-pane", "-p"], capture_output=True).stdout
            if MARK in cap:
                break
            time.sleep(0.2)
        tails = []
        for _ in range(reps):
            t0 = time.perf_counter()
            pid, fd = spawn(tm + ["attach"], {})
            t1, _ = read_until(fd, MARK, 30)
            if t1 is None:
                sys.exit("tmux attach never showed the pane's end")
            tails.append((t1 - t0) * 1000)
            os.write(fd, b"\x02d")  # prefix d: detach
            read_until(fd, b"\0", 1)
            stop(pid, fd)
        return tails
    finally:
        subprocess.run(tm + ["kill-server"], capture_output=True)


def approvals(binary, work, n):
    b = Board(binary, work)
    try:
        a_pid, a = b.tui()
        c_pid, c = b.tui()
        for fd in (a, c):
            if read_until(fd, b"Goals", 30)[0] is None:
                sys.exit("a TUI did not start")
        lat = []
        for i in range(n):
            b.add(f"r{i}.toml", f'title = "review {i}"\n[[task]]\ntitle = "look {i}"\nkind = "human_review"\n')
            for fd in (a, c):
                if read_until(fd, f"look {i}".encode(), 30)[0] is None:
                    sys.exit("the review gate never showed")
            drain(a, 0.3)
            drain(c, 0.3)
            os.write(a, b"!")
            if read_until(a, b"Decide", 10)[0] is None:
                sys.exit("the decision dialog did not open")
            drain(c, 0.2)
            t0 = time.perf_counter()
            os.write(a, b"a")
            t1, _ = read_until(c, DONE, 10)
            if t1 is None:
                sys.exit("the second TUI never drew the approval")
            lat.append((t1 - t0) * 1000)
            drain(a, 0.2)
        stop(a_pid, a)
        stop(c_pid, c)
        return lat
    finally:
        b.down()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="taskboard binary (default: target/release/taskboard, built if missing)")
    ap.add_argument("--quick", action="store_true", help="5 MB, 1 attach, 2 approvals")
    ap.add_argument("--mb", type=int, default=100, help="megabytes the agent prints before we attach")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.path.abspath(a.bin or os.path.join(root, "target", "release", "taskboard"))
    if not os.path.exists(binary):
        subprocess.run(["cargo", "build", "--release"], cwd=root, check=True)
    mb = 5 if a.quick else a.mb
    reps, n = (1, 2) if a.quick else (5, 10)
    size = mb << 20
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    work = tempfile.mkdtemp(prefix="tb-attach-", dir=base)
    try:
        firsts, tails = attach_taskboard(binary, work, size, reps)
        ref = attach_tmux(work, size, reps) if shutil.which("tmux") else []
        lat = approvals(binary, work, n)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    print(f"attach after {mb} MB, taskboard: first frame median {med(firsts):.0f} ms, "
          f"pane tail shown median {med(tails):.0f} ms (max {max(tails):.0f} ms, {reps} attaches)")
    if ref:
        print(f"attach after {mb} MB, tmux: pane tail shown median {med(ref):.0f} ms "
              f"(ratio {med(tails) / med(ref):.2f}x)")
    print(f"goal < 2000 ms: {'met' if max(tails) < 2000 else 'MISSED'}")
    print(f"approval seen by a second attached TUI: median {med(lat):.1f} ms, max {max(lat):.1f} ms "
          f"({n} approvals; goal < 200 ms: {'met' if max(lat) < 200 else 'MISSED'})")


if __name__ == "__main__":
    main()
