#!/usr/bin/env python3
"""A deterministic threading workload for tests/real_programs/run.sh: CPython's
own locks (Lock, RLock, Condition, queue.Queue, Semaphore, Event, Barrier and
a ThreadPoolExecutor) used by several threads, under lockrace and natively.

It prints only results that do not depend on scheduling, so both runs must
print the same text. Every wait has a timeout: a hang fails with a message
instead of blocking the caller."""
import hashlib
import os
import queue
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

WAIT = 20  # seconds; far more than any step needs, so only a hang reaches it


def fail(what):
    """Ends the whole process: sys.exit() in a thread would end only that thread."""
    print(f"threads_workload: {what}", file=sys.stderr, flush=True)
    os._exit(1)


# An exception in any thread (queue.Empty, BrokenBarrierError, ...) fails the run.
threading.excepthook = lambda a: fail(f"{a.thread.name}: {a.exc_type.__name__}: {a.exc_value}")


def start(threads):
    for t in threads:
        t.start()


def join(threads):
    for t in threads:
        t.join(WAIT)
        if t.is_alive():
            fail(f"{t.name} did not finish within {WAIT} s")


def queue_and_lock():
    """4 producers put numbers on a bounded queue.Queue, 4 consumers add them
    up into a total guarded by a Lock; one None per consumer ends it."""
    q = queue.Queue(maxsize=64)
    total_lock = threading.Lock()
    totals = {"sum": 0, "count": 0}

    def produce(k):
        for i in range(k * 5000, (k + 1) * 5000):
            q.put(i, timeout=WAIT)

    def consume():
        while True:
            item = q.get(timeout=WAIT)
            if item is None:
                return
            with total_lock:
                totals["sum"] += item
                totals["count"] += 1

    producers = [threading.Thread(target=produce, args=(k,), name=f"producer-{k}") for k in range(4)]
    consumers = [threading.Thread(target=consume, name=f"consumer-{k}") for k in range(4)]
    start(producers + consumers)
    join(producers)
    for _ in consumers:
        q.put(None, timeout=WAIT)
    join(consumers)
    return f"queue: {totals['count']} items, sum {totals['sum']}"


def rlock():
    """Threads re-enter an RLock recursively; the counter is only touched with it held."""
    lock = threading.RLock()
    counter = [0]

    def nested(depth):
        with lock:
            counter[0] += 1
            if depth:
                nested(depth - 1)

    def work():
        for _ in range(2000):
            nested(4)

    threads = [threading.Thread(target=work, name=f"rlock-{k}") for k in range(4)]
    start(threads)
    join(threads)
    return f"rlock: counter {counter[0]}"


def condition_pingpong():
    """Two threads take turns through a Condition: each waits for its turn,
    appends to a shared log, passes the turn. The log order is fixed."""
    cond = threading.Condition(threading.Lock())
    state = {"turn": 0, "log": []}
    rounds = 2000

    def player(me):
        for _ in range(rounds):
            with cond:
                if not cond.wait_for(lambda: state["turn"] == me, timeout=WAIT):
                    fail(f"player {me} waited {WAIT} s for its turn")
                state["log"].append(me)
                state["turn"] = 1 - me
                cond.notify_all()

    threads = [threading.Thread(target=player, args=(me,), name=f"player-{me}") for me in (0, 1)]
    start(threads)
    join(threads)
    digest = hashlib.sha256(bytes(state["log"])).hexdigest()[:16]
    return f"condition: {len(state['log'])} turns, log sha256 {digest}"


def semaphore_and_event():
    """8 threads wait on an Event, then enter a section a Semaphore(2) admits
    two at a time. Only whether the bound held is printed: how many were
    inside at once depends on scheduling."""
    go = threading.Event()
    sem = threading.Semaphore(2)
    lock = threading.Lock()
    state = {"inside": 0, "most": 0, "done": 0}

    def work():
        if not go.wait(WAIT):
            fail("the start event was never set")
        for _ in range(200):
            if not sem.acquire(timeout=WAIT):
                fail(f"semaphore not acquired within {WAIT} s")
            with lock:
                state["inside"] += 1
                state["most"] = max(state["most"], state["inside"])
            hashlib.sha256(b"x" * 4096).digest()  # a little work inside the section
            with lock:
                state["inside"] -= 1
                state["done"] += 1
            sem.release()

    threads = [threading.Thread(target=work, name=f"sem-{k}") for k in range(8)]
    start(threads)
    go.set()
    join(threads)
    bound = "held" if 1 <= state["most"] <= 2 else f"broken ({state['most']} inside)"
    return f"semaphore: {state['done']} entries, bound of 2 {bound}"


def barrier_phases():
    """4 threads compute a phase each into their own slot, meet at a Barrier,
    then read every slot of the phase before: the result is fixed by the
    barrier, not by the schedule."""
    parties, phases = 4, 50
    barrier = threading.Barrier(parties, timeout=WAIT)
    values = [[0] * parties for _ in range(phases + 1)]
    for k in range(parties):
        values[0][k] = k + 1

    def work(k):
        for p in range(1, phases + 1):
            values[p][k] = (sum(values[p - 1]) * (k + 3) + p) % 1000003
            barrier.wait()

    threads = [threading.Thread(target=work, args=(k,), name=f"barrier-{k}") for k in range(parties)]
    start(threads)
    join(threads)
    return f"barrier: {phases} phases, last {values[phases]}"


def pool():
    """A ThreadPoolExecutor hashes 64 blocks (hashlib releases the GIL on
    large inputs); results come back in submission order through map()."""
    blocks = [bytes([i]) * (256 * 1024) for i in range(64)]
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="pool") as ex:
        digests = list(ex.map(lambda b: hashlib.sha256(b).digest(), blocks, timeout=WAIT))
    return f"pool: {len(digests)} blocks, sha256 of digests {hashlib.sha256(b''.join(digests)).hexdigest()[:16]}"


def main():
    for step in (queue_and_lock, rlock, condition_pingpong, semaphore_and_event, barrier_phases, pool):
        print(step(), flush=True)


if __name__ == "__main__":
    main()
