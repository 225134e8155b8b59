"""Four threads add to a counter, each update under `with lock:`. Clean
under lockrace: one lock, always taken alone.

    lockrace -- python3 demos/python/counter.py"""
import threading

lock = threading.Lock()
counter = 0


def add(n):
    global counter
    for _ in range(n):
        with lock:
            counter += 1


threads = [threading.Thread(target=add, args=(10000,), name=f"adder-{i}") for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("counter:", counter)
