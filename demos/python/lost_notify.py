"""A Condition waited on after the only thread that would notify it has
already notified and ended: the wait never ends. Natively the program
hangs; lockrace's watchdog (--watchdog 1, or --ci) sees that no thread
can wake any other and reports it.

    lockrace --watchdog 1 -- python3 demos/python/lost_notify.py"""
import threading

ready = threading.Condition()
items = []


def producer():
    with ready:
        items.append("job")
        ready.notify()          # nobody waits yet: this notify is lost


t = threading.Thread(target=producer, name="producer")
t.start()
t.join()
with ready:
    ready.wait()                # waits for a notify that already happened
print("items:", items)
