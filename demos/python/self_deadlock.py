"""A threading.Lock taken twice by the thread that holds it: Python's Lock
is not reentrant, so the second acquire waits for a release that nobody
can make. Natively the program hangs; lockrace reports the self-deadlock
and ends the process.

    lockrace -- python3 demos/python/self_deadlock.py

demos/python/rlock.py is the same code with an RLock, which is clean."""
import threading

ledger_lock = threading.Lock()
ledger = []


def record(entry):
    with ledger_lock:
        ledger.append(entry)


def record_pair(a, b):
    with ledger_lock:           # held here ...
        record(a)               # ... and taken again inside record()
        record(b)


record_pair("debit", "credit")
print("ledger:", ledger)
