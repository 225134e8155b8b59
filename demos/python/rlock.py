"""demos/python/self_deadlock.py with an RLock: the thread that holds it
may take it again. Clean under lockrace.

    lockrace -- python3 demos/python/rlock.py"""
import threading

ledger_lock = threading.RLock()
ledger = []


def record(entry):
    with ledger_lock:
        ledger.append(entry)


def record_pair(a, b):
    with ledger_lock:
        record(a)
        record(b)


record_pair("debit", "credit")
print("ledger:", ledger)
