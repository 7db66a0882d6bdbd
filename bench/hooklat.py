#!/usr/bin/env python3
"""Row B16: a "needs you" moment reported by an agent's hook, until it is in the inbox.

A headless board runs one agent task (a shell that waits, standing in for Claude Code).
Each round runs `taskboard hook claude` exactly as Claude Code's Notification hook does (a
new process, the hook's JSON on stdin, the task's token from its environment) and times
from just before that process starts until the board's `attention` event for it arrives
on `GET /api/events` (what the TUI's inbox and headless output hear). Then a
UserPromptSubmit hook clears it for the next round. Goal (issue "Real agents"): median and
p99 <= 100 ms.

    cargo build --release && python3 bench/hooklat.py     # 200 rounds
    python3 bench/hooklat.py --quick --bin target/debug/taskboard   # the tests' smoke run
"""
import argparse, json, os, shutil, socket, statistics, subprocess, sys, tempfile, time


def sse(url, token):
    host, port = url.replace("http://", "").split(":")
    s = socket.create_connection((host, int(port)))
    s.sendall(f"GET /api/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    s.settimeout(10)
    return s


def wait_attention(sock, buf, message):
    """Reads events until an `attention` one carries `message`; returns the leftover."""
    needle = json.dumps(message).encode()
    while True:
        while b"\n\n" in buf:
            event, buf = buf.split(b"\n\n", 1)
            if b"event: attention" in event and needle in event:
                return buf
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the event stream ended")
        buf += chunk


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/taskboard")
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    n = 20 if a.quick else a.n
    binary = os.path.abspath(a.bin)
    work = tempfile.mkdtemp(prefix="hooklat-")
    board = None
    try:
        data = os.path.join(work, "data")
        cfg = os.path.join(work, "config.toml")
        open(cfg, "w").write("spawns_per_minute = 100\n")
        goal = os.path.join(work, "goal.toml")
        open(goal, "w").write(
            'title = "hook latency"\n[[task]]\ntitle = "agent"\nworktree = false\n'
            'command = ["sh", "-c", "env | grep ^TASKBOARD_ > agent.env; sleep 600"]\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith("TASKBOARD_")}
        board = subprocess.Popen([binary, "--data-dir", data, "--config", cfg, "run", goal, "--headless"],
                                 cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        agent_env = os.path.join(work, "agent.env")
        end = time.time() + 30
        while time.time() < end and "TASKBOARD_TOKEN" not in (open(agent_env).read() if os.path.exists(agent_env) else ""):
            time.sleep(0.05)
        hook_env = dict(env)
        for line in open(agent_env).read().splitlines():
            k, _, v = line.partition("=")
            hook_env[k] = v
        url = open(os.path.join(data, "endpoint")).read().split()[0]
        token = open(os.path.join(data, "token")).read().strip()
        sock, buf = sse(url, token), b""
        times = []
        for i in range(n):
            message = f"Claude needs your permission ({i})"
            note = json.dumps({"hook_event_name": "Notification", "message": message,
                               "notification_type": "permission_prompt"})
            t0 = time.perf_counter()
            p = subprocess.Popen([binary, "hook", "claude"], env=hook_env, stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            p.stdin.write(note.encode())
            p.stdin.close()
            buf = wait_attention(sock, buf, message)
            times.append((time.perf_counter() - t0) * 1000)
            p.wait()
            clear = subprocess.run([binary, "hook", "claude"], env=hook_env,
                                   input=json.dumps({"hook_event_name": "UserPromptSubmit", "prompt": "go"}).encode(),
                                   capture_output=True)
            if clear.returncode != 0:
                raise RuntimeError(clear.stderr.decode())
        times.sort()
        p99 = times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
        print(f"B16 hook -> inbox: median {statistics.median(times):.1f} ms, p99 {p99:.1f} ms, "
              f"max {times[-1]:.1f} ms (n={len(times)}, {os.path.basename(binary)})")
    finally:
        if board:
            board.terminate()
            try:
                board.wait(10)
            except subprocess.TimeoutExpired:
                board.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
