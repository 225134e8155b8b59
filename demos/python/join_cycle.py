"""The main thread joins a worker while it holds the lock the worker
needs: the worker waits for the lock, the main thread for the worker.
Natively the program hangs; lockrace reports the deadlock (a join in
Python waits for the thread's _tstate_lock, which lockrace reads as a join)
and ends the process.

    lockrace -- python3 demos/python/join_cycle.py"""
import threading

results_lock = threading.Lock()
results = []


def worker():
    with results_lock:
        results.append(42)


with results_lock:
    t = threading.Thread(target=worker, name="worker")
    t.start()
    t.join()                    # waits for worker, which waits for results_lock
print("results:", results)
