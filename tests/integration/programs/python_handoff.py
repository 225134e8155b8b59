"""Python's Locks used the ways Python allows and a mutex does not, many
times over, so that lockrace's short paths for a Lock (a try in a context
its thread has met, a try on a Lock the thread holds, a release by the
thread that took it last) meet each case: a Lock released by a thread
that did not take it and tried again by the one that did, a Lock handed
from thread to thread as a baton, a Condition on a Lock (whose every
notify and wait tries the Lock its own thread holds), and nested `with`
blocks in a steady order. Clean: no report, and the same output as
natively."""
import threading

ROUNDS = 300

# A Lock taken by the main thread, released by another, then tried again
# by the main thread: the try succeeds, although the main thread took the
# Lock last.
lock = threading.Lock()
tried = 0
for _ in range(ROUNDS):
    lock.acquire()
    other = threading.Thread(target=lock.release)
    other.start()
    other.join()
    if lock.acquire(blocking=False):
        tried += 1
        lock.release()

# A baton: each thread takes the Lock the one before it released, under
# a Lock of its own.
baton = threading.Lock()
baton.acquire()
passed = []


def runner(i, inner):
    with inner:
        baton.acquire()             # released by the runner before
    passed.append(i)
    baton.release()


inner = threading.Lock()
runners = [threading.Thread(target=runner, args=(i, inner)) for i in range(20)]
for t in runners:
    t.start()
baton.release()
for t in runners:
    t.join()

# A Condition on a Lock: a producer and a consumer take turns.
cond = threading.Condition(threading.Lock())
box = []
got = 0


def consumer():
    global got
    for _ in range(ROUNDS):
        with cond:
            cond.wait_for(lambda: box)
            got += box.pop()
            cond.notify()


c = threading.Thread(target=consumer)
c.start()
for i in range(ROUNDS):
    with cond:
        cond.wait_for(lambda: not box)
        box.append(i)
        cond.notify()
c.join()

# Nested blocks in one order, from two threads.
outer, middle = threading.Lock(), threading.RLock()
count = 0


def nest():
    global count
    for _ in range(ROUNDS):
        with outer:
            with middle:
                with middle:
                    count += 1


nesters = [threading.Thread(target=nest) for _ in range(2)]
for t in nesters:
    t.start()
for t in nesters:
    t.join()

print(tried, len(passed), got, count)
