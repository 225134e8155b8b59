"""A Python threading workload for bench/python.sh: a ThreadPoolExecutor
whose tasks hand items through a queue.Queue to consumer threads, and a
Condition-guarded counter they update. Prints the seconds it took (wall
time, then the CPU time of the whole process, every thread) and a
checksum (the same natively and under lockrace)."""
import concurrent.futures
import queue
import sys
import threading
import time

ITEMS = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
WORKERS = 4

done = threading.Condition()
total = 0
consumed = 0


def produce(chunk, q):
    for i in range(chunk):
        q.put(i)
    return chunk


def consume(q):
    global total, consumed
    while True:
        item = q.get()
        if item is None:
            return
        with done:
            total += item
            consumed += 1
            if consumed == ITEMS:
                done.notify_all()


start = time.perf_counter()
cpu = time.process_time()
q = queue.Queue(maxsize=64)
consumers = [threading.Thread(target=consume, args=(q,), name=f"consumer-{i}") for i in range(2)]
for t in consumers:
    t.start()
with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
    chunk = ITEMS // 100
    futures = [pool.submit(produce, chunk, q) for _ in range(100)]
    produced = sum(f.result() for f in futures)
with done:
    done.wait_for(lambda: consumed == ITEMS)
for _ in consumers:
    q.put(None)
for t in consumers:
    t.join()
print(f"{time.perf_counter() - start:.3f} {time.process_time() - cpu:.3f} {produced} {total}")
