#!/usr/bin/env python3
"""python3's multiprocessing for the real-program matrix.

  multiprocessing_workload.py pools: a Pool under each start method (fork,
      forkserver, spawn), a Manager (a server process with a thread per
      client) shared by processes, and a ThreadPool;
  multiprocessing_workload.py queue: a multiprocessing.Queue filled by
      forked processes (each starts a feeder thread).

Every child is a new process that loads lockrace again. Prints only results
that do not depend on scheduling."""
import multiprocessing as mp
import sys
from multiprocessing.pool import ThreadPool

WAIT = 30  # seconds; only a hang reaches it


def square(x):
    return x * x


def count_into(args):
    shared, lock, k = args
    for _ in range(50):
        with lock:
            shared["n"] = shared.get("n", 0) + 1
    return k


def pools():
    for method in ("fork", "forkserver", "spawn"):
        ctx = mp.get_context(method)
        with ctx.Pool(2) as pool:
            total = sum(pool.map_async(square, range(2000), chunksize=50).get(WAIT))
        print(f"{method} pool: sum of squares {total}")

    with mp.get_context("fork").Manager() as manager:
        shared, lock = manager.dict(), manager.Lock()
        with mp.get_context("fork").Pool(2) as pool:
            done = sorted(pool.map_async(count_into, [(shared, lock, k) for k in range(4)]).get(WAIT))
        print(f"manager: {done} counted {shared['n']}")

    with ThreadPool(4) as pool:
        print(f"thread pool: {sum(pool.map(square, range(10000)))}")


def queue():
    q = mp.get_context("fork").Queue()
    procs = [mp.get_context("fork").Process(target=q.put, args=(k * k,)) for k in range(4)]
    for p in procs:
        p.start()
    got = sorted(q.get(timeout=WAIT) for _ in procs)
    for p in procs:
        p.join(WAIT)
    print(f"queue from processes: {got}, exit codes {[p.exitcode for p in procs]}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("pools", "queue"):
        sys.exit("usage: multiprocessing_workload.py pools|queue")
    {"pools": pools, "queue": queue}[sys.argv[1]]()
