#!/usr/bin/env python3
"""Keystroke-to-echo latency in a `cat` pane while 3 other panes flood output: taskboard's
TUI and tmux, side by side in one run, each in an outer PTY we own (200x50).

We type KEY into the outer PTY and time until KEY comes back on it: the multiplexer must
read the key, write it to the pane's PTY, read the echo, parse it and draw it.

    cargo build --release && python3 bench/keylat.py          # 300 keys each
    python3 bench/keylat.py --quick --bin target/debug/taskboard  # the test suite's smoke run

Goal (the TUI issue): taskboard p99 <= 16.7 ms and <= 2.5x tmux's p99.
Modelled on ../shared/bench-reference/pty/keylat.py.
"""
import argparse, fcntl, os, pty, select, shutil, signal, statistics, struct, sys, tempfile, termios, time

KEY = b"Z"
# Every line differs (a counter), so each frame really changes; no KEY in it.
FLOOD = ["seq", "-f", "flood %.0f flood flood flood flood flood", "1", "1e15"]
ROWS, COLS = 50, 200


def spawn(argv, env):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(env)
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    return pid, fd


def read_some(fd, timeout):
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


def drain(fd, timeout, until=None):
    """Reads for `timeout` seconds (or until `until` appears); returns what was read."""
    end = time.perf_counter() + timeout
    out = b""
    while True:
        left = end - time.perf_counter()
        if left <= 0:
            return out
        out += read_some(fd, left)
        if until is not None and until in out:
            return out
        if len(out) > 1 << 20:
            out = out[-4096:]


def measure(fd, n):
    lat = []
    for i in range(n):
        if i % 40 == 39:
            os.write(fd, b"\x15")  # ctrl-U: clear the line
            drain(fd, 0.05)
        t = time.perf_counter()
        os.write(fd, KEY)
        buf = b""
        # Floods keep the PTY busy: give up on a key after 2 s (counted as 2 s).
        while KEY not in buf and time.perf_counter() - t < 2.0:
            chunk = read_some(fd, 2.0 - (time.perf_counter() - t))
            if not chunk:
                break
            buf = buf[-64:] + chunk
        lat.append((time.perf_counter() - t) * 1000)
        drain(fd, 0.02)
    return lat


def summary(label, lat):
    lat = sorted(lat)
    p99 = lat[max(0, int(len(lat) * 0.99) - 1)]
    print(f"{label}: keystroke->echo p50 {statistics.median(lat):.2f} ms, p99 {p99:.2f} ms, "
          f"max {lat[-1]:.2f} ms (n={len(lat)})", flush=True)
    return p99


def stop(pid, fd, keys=b""):
    if keys:
        try:
            os.write(fd, keys)
        except OSError:
            pass
        end = time.time() + 8
        while time.time() < end:
            drain(fd, 0.1)
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    os.close(fd)


def run_taskboard(binary, work, n):
    with open(os.path.join(work, "config.toml"), "w") as f:
        f.write("spawns_per_minute = 100\nmax_agents = 4\nbell = false\n")
    goal = ['title = "keylat"', "parallel = true",
            '[[task]]', 'title = "cat"', 'command = ["cat"]', "worktree = false"]
    for i in range(3):
        goal += ['[[task]]', f'title = "flood {i + 1}"',
                 "command = [" + ", ".join(f'"{a}"' for a in FLOOD) + "]", "worktree = false"]
    path = os.path.join(work, "keylat.toml")
    with open(path, "w") as f:
        f.write("\n".join(goal) + "\n")
    argv = [binary, "--data-dir", os.path.join(work, "data"), "--config",
            os.path.join(work, "config.toml"), "run", path]
    env = {"TERM": "xterm-256color"}
    if os.environ.get("KEYLAT_DRAW_LOG"):
        env["TASKBOARD_DRAW_LOG"] = os.environ["KEYLAT_DRAW_LOG"]
    pid, fd = spawn(argv, env)
    seen = drain(fd, 20.0, until=b"4 running")
    if b"4 running" not in seen:
        stop(pid, fd)
        sys.exit("taskboard did not show 4 running agents")
    drain(fd, 1.0)
    os.write(fd, b"j")  # `run FILE` selects the new goal; the next row is the `cat` task
    drain(fd, 0.3)
    os.write(fd, b"\r")  # its pane in input mode: keys go to `cat`
    drain(fd, 0.5)
    lat = measure(fd, n)
    stop(pid, fd, b"\x07qy")  # leave input mode, quit, yes
    return lat


def run_tmux(work, n):
    sock = f"keylat-{os.getpid()}"
    flood = " ".join(f"'{a}'" for a in FLOOD)
    argv = ["tmux", "-L", sock, "-f", "/dev/null", "new-session", "cat", ";",
            "split-window", "-h", flood, ";", "split-window", "-v", flood, ";",
            "select-pane", "-t", "0", ";", "split-window", "-v", flood, ";",
            "select-pane", "-t", "0"]
    pid, fd = spawn(argv, {"TERM": "xterm-256color"})
    drain(fd, 2.0)
    lat = measure(fd, n)
    os.system(f"tmux -L {sock} kill-server 2>/dev/null")
    stop(pid, fd)
    return lat


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="taskboard binary (default: target/release, else target/debug)")
    ap.add_argument("-n", type=int, default=300, help="keystrokes per program")
    ap.add_argument("--quick", action="store_true", help="60 keystrokes (smoke run)")
    ap.add_argument("--check", action="store_true", help="exit 1 when the goal is missed")
    args = ap.parse_args()
    n = 60 if args.quick else args.n
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = args.bin or next((p for p in (os.path.join(root, "target", b, "taskboard")
                                           for b in ("release", "debug")) if os.path.exists(p)), None)
    if not binary or not os.path.exists(binary):
        sys.exit("build taskboard first (cargo build --release) or pass --bin")
    if not shutil.which("tmux"):
        sys.exit("tmux is needed for the side-by-side run")
    work = tempfile.mkdtemp(prefix="taskboard-keylat-")
    try:
        tb = summary("taskboard", run_taskboard(binary, work, n))
        tm = summary("tmux", run_tmux(work, n))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = tb / tm if tm > 0 else float("inf")
    ok = tb <= 16.7 and ratio <= 2.5
    print(f"p99 taskboard/tmux = {ratio:.2f}x (goal: p99 <= 16.7 ms and <= 2.5x tmux): "
          f"{'met' if ok else 'MISSED'}", flush=True)
    if args.check and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
