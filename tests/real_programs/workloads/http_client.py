#!/usr/bin/env python3
"""http_client.py PORT DIR [PREFIX]: the HTTP load of tests/real_programs: 4
threads, one keep-alive connection each, fetch every file of DIR (as
http://127.0.0.1:PORT/PREFIX/NAME) three times and check its bytes.
Prints one line that does not depend on scheduling."""
import http.client, os, sys, threading

port, root = int(sys.argv[1]), sys.argv[2]
prefix = sys.argv[3] if len(sys.argv) > 3 else ""
names = sorted(os.listdir(root))
errors, fetched, lock = [], [0], threading.Lock()


def client(k):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(3):
            for name in names[k::4]:
                c.request("GET", f"{prefix}/{name}")
                r = c.getresponse()
                body = r.read()
                with open(os.path.join(root, name), "rb") as f:
                    if r.status != 200 or body != f.read():
                        raise Exception(f"{name}: status {r.status}, {len(body)} bytes")
                with lock:
                    fetched[0] += 1
        c.close()
    except Exception as e:
        errors.append(f"client {k}: {e}")


threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    sys.exit("http client: " + "; ".join(sorted(errors)))
print(f"{fetched[0]} requests of {len(names)} files, every body checked")
