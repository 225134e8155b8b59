"""Two threading.Lock objects taken in opposite orders by two threads: the
AB-BA inversion, in Python. The threads run one after the other, so this run
never hangs; the code can deadlock when they overlap.

    lockrace -- python3 demos/python/abba.py

CPython's Lock is a POSIX semaphore on glibc; lockrace takes a semaphore
initialised to 1 for a lock, so the inversion is in its lock-order graph."""
import threading

accounts_lock = threading.Lock()
audit_lock = threading.Lock()
balance = {"alice": 100, "bob": 50}


def transfer():
    with accounts_lock:         # accounts, then audit
        with audit_lock:
            balance["alice"] -= 10
            balance["bob"] += 10


def audit():
    with audit_lock:            # audit, then accounts: the other order
        with accounts_lock:
            assert sum(balance.values()) == 150


for work in (transfer, audit):
    t = threading.Thread(target=work, name=work.__name__)
    t.start()
    t.join()
print("balances:", balance)
