#!/usr/bin/env python3
"""memcached_client.py PORT: the memcached load of tests/real_programs (4 threads,
one connection each, text protocol). Each sets 1000 keys of its own, waits
for the others, then gets the 1000 keys of the next client and checks value
and flags; all also increment one shared counter, so that memcached's
workers meet on one item."""
import hashlib, socket, sys, threading, time
PORT, CLIENTS, KEYS, INCRS = int(sys.argv[1]), 4, 1000, 250
errors = []
barrier = threading.Barrier(CLIENTS, timeout=30)

def connect():
    deadline = time.monotonic() + 10   # memcached may still be starting
    while True:
        try:
            return socket.create_connection(("127.0.0.1", PORT), timeout=30)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

def value(c, i):
    return hashlib.sha256(b"%d:%d" % (c, i)).hexdigest().encode() * (1 + i % 16)

def request(s, f, line, data=None):
    s.sendall(line + b"\r\n" + (data + b"\r\n" if data is not None else b""))
    return f.readline()

def client(c):
    try:
        s = connect()
        f = s.makefile("rb")
        for i in range(KEYS):
            v = value(c, i)
            reply = request(s, f, b"set c%d:k%d %d 0 %d" % (c, i, i, len(v)), v)
            if reply != b"STORED\r\n":
                raise Exception(f"set c{c}:k{i}: {reply!r}")
        if request(s, f, b"add counter 0 0 1", b"0") not in (b"STORED\r\n", b"NOT_STORED\r\n"):
            raise Exception("add counter failed")
        barrier.wait()
        o = (c + 1) % CLIENTS
        for i in range(KEYS):
            v = value(o, i)
            header = request(s, f, b"get c%d:k%d" % (o, i))
            if header != b"VALUE c%d:k%d %d %d\r\n" % (o, i, i, len(v)):
                raise Exception(f"get c{o}:k{i}: {header!r}")
            data, end = f.read(len(v) + 2), f.readline()
            if data != v + b"\r\n" or end != b"END\r\n":
                raise Exception(f"get c{o}:k{i}: wrong value or end {end!r}")
        for _ in range(INCRS):
            if not request(s, f, b"incr counter 1").rstrip().isdigit():
                raise Exception("incr counter failed")
        barrier.wait()
        if c == 0:
            header, data = request(s, f, b"get counter"), f.readline()
            if not header.startswith(b"VALUE counter ") or f.readline() != b"END\r\n" \
                    or data != b"%d\r\n" % (CLIENTS * INCRS):
                raise Exception(f"counter is {header!r} {data!r}, expected {CLIENTS * INCRS}")
        s.sendall(b"quit\r\n")
        s.close()
    except Exception as e:
        errors.append(f"client {c}: {e}")
        barrier.abort()   # the others stop waiting instead of timing out

threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    sys.exit("memcached client: " + "; ".join(sorted(errors)))
print(f"{CLIENTS} clients: {CLIENTS * KEYS} sets, {CLIENTS * KEYS} gets checked, "
      f"counter {CLIENTS * INCRS}")
