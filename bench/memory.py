#!/usr/bin/env python3
"""Memory benchmark (issue: agents): N agents each print L lines; compare the resident memory
of a headless taskboard board with a tmux server holding the same panes, in one run.

taskboard keeps `scrollback` (default 1,000) lines per pane in memory and every line on disk
(`taskboard logs` prints them all); tmux is measured with history-limit = L (the same lines
retrievable) and = 1,000 (the same lines in memory).

Usage: python3 bench/memory.py [--quick] [--bin target/release/taskboard]
"""
import argparse, os, shutil, subprocess, sys, tempfile, time

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def wait(cond, limit, what):
    end = time.time() + limit
    while time.time() < end:
        if cond():
            return
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {what}")

def gen_script(d, lines):
    p = os.path.join(d, "gen.sh")
    with open(p, "w") as f:
        f.write(f"i=1; while [ $i -le {lines} ]; do echo \"line $i of the memory benchmark: lorem ipsum dolor sit amet, consectetur\"; i=$((i+1)); done; echo DONE; sleep 600\n")
    return p

def count_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except OSError:
        return 0

def run_taskboard(binary, d, gen, agents, lines):
    data = os.path.join(d, "tb-data")
    cfg = os.path.join(d, "tb.toml")
    with open(cfg, "w") as f:
        f.write(f"max_agents = {agents}\nspawns_per_minute = 1000\n")
    goal = os.path.join(d, "goal.toml")
    with open(goal, "w") as f:
        f.write("title = \"memory\"\nparallel = true\n")
        for i in range(agents):
            f.write(f"[[task]]\ntitle = \"a{i}\"\ncommand = [\"sh\", \"{gen}\"]\nworktree = false\n")
    p = subprocess.Popen([binary, "--data-dir", data, "--config", cfg, "run", goal, "--headless"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    logs = [os.path.join(data, "logs", f"{i + 2}.log") for i in range(agents)]
    wait(lambda: all(count_lines(l) >= lines + 1 for l in logs), 300, "taskboard agents")
    time.sleep(1.0)
    rss = rss_kb(p.pid)
    out = subprocess.run([binary, "--data-dir", data, "logs", "2"], capture_output=True).stdout
    printed = out.count(b"line ")
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
    return rss, printed

def run_tmux(d, gen, agents, lines, history):
    sock = f"tb-mem-{os.getpid()}-{history}"
    conf = os.path.join(d, f"tmux-{history}.conf")
    with open(conf, "w") as f:
        f.write(f"set -g history-limit {history}\n")
    t = ["tmux", "-L", sock, "-f", conf]
    subprocess.run(t + ["new-session", "-d", "-x", "120", "-y", "40", "sh", gen], check=True)
    for _ in range(agents - 1):
        subprocess.run(t + ["new-window", "sh", gen], check=True)
    pid = int(subprocess.run(t + ["display", "-p", "#{pid}"], capture_output=True, text=True).stdout.strip())
    want = min(history, lines) - 40
    def done():
        out = subprocess.run(t + ["list-panes", "-a", "-F", "#{history_size}"], capture_output=True, text=True).stdout.split()
        return len(out) == agents and all(int(x) >= want for x in out)
    wait(done, 300, "tmux panes")
    time.sleep(1.0)
    rss = rss_kb(pid)
    subprocess.run(t + ["kill-server"])
    return rss

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bin", default="target/release/taskboard")
    a = ap.parse_args()
    agents, lines = (4, 2000) if a.quick else (20, 10000)
    if not os.path.exists(a.bin):
        subprocess.run(["cargo", "build", "--release"], check=True)
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    d = tempfile.mkdtemp(prefix="tb-mem-", dir=base)
    try:
        gen = gen_script(d, lines)
        tb, printed = run_taskboard(a.bin, d, gen, agents, lines)
        tm_full = run_tmux(d, gen, agents, lines, lines)
        tm_1k = run_tmux(d, gen, agents, lines, 1000)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print(f"memory: {agents} agents x {lines} lines")
    print(f"  taskboard board RSS            {tb / 1024:8.1f} MiB  (logs printed {printed}/{lines} lines of one task)")
    print(f"  tmux server, history {lines:<6}   {tm_full / 1024:8.1f} MiB  ratio taskboard/tmux {tb / tm_full:.2f} (goal < 8)")
    print(f"  tmux server, history 1000     {tm_1k / 1024:8.1f} MiB  ratio taskboard/tmux {tb / tm_1k:.2f}")
    if printed != lines:
        sys.exit("taskboard logs did not print every line")

if __name__ == "__main__":
    main()
