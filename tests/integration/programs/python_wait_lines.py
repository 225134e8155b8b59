"""Two threads wait for the same Lock from different lines while the main
thread, which holds it, sleeps and then waits for an Event that nobody
sets: the whole process is stuck. Each waiting thread must be shown at its
own line, not at the line where another thread (here the main thread, line
23) first took the lock (integration.python_wait_lines)."""
import threading
import time

lock = threading.Lock()
gate = threading.Event()


def first():
    gate.wait()
    lock.acquire()              # first waits here: line 15


def second():
    gate.wait()
    lock.acquire()              # second waits here: line 20


with lock:                      # line 23: the lock is first taken here
    pass
with lock:
    for target in (first, second):
        threading.Thread(target=target, name=target.__name__).start()
    gate.set()
    time.sleep(0.5)             # both block while their holder sleeps
    threading.Event().wait()    # nobody sets it: line 30
