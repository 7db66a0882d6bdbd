"""CPU time and RSS over a multiplexer's process tree, read from /proc (bench/run)."""
import os

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def proc_table():
    """pid -> (ppid, tty_nr, cpu ticks (user+system, all threads), rss pages)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(d)] = (int(fields[1]), int(fields[4]), int(fields[11]) + int(fields[12]), int(fields[21]))
        except (OSError, IndexError, ValueError):
            pass
    return out


def tree(roots, table):
    """The roots and their descendants on the root's own terminal (or none, like tmux's
    server): a pane's program sits on the pane's terminal and is left out with its children."""
    kids = {}
    for pid, (ppid, *_rest) in table.items():
        kids.setdefault(ppid, []).append(pid)
    out = set()
    for root in roots:
        if root not in table:
            continue
        tty = table[root][1]
        stack = [root]
        while stack:
            p = stack.pop()
            if p in out or p not in table:
                continue
            if p == root or table[p][1] == tty:
                out.add(p)
                stack.extend(kids.get(p, []))
    return out


def cpu_s(roots):
    t = proc_table()
    return sum(t[p][2] for p in tree(roots, t)) / TICK


def rss_bytes(roots):
    t = proc_table()
    total = 0
    for p in tree(roots, t):
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            pass
    return total
