"""A lock held when another is taken is shown at the line that took it
this time. The interpreter takes every Lock from one C call site, so the
same lock under the same locks at two lines is one context to a C
program's eyes: the held lock's stack must not be that of its first line
(`first`, line 15) when it was taken again at another (line 20, line 27
after a wait for it) (integration.python_held_lines)."""
import threading
import time

a = threading.Lock()
b = threading.Lock()
c = threading.Lock()

def first():
    with a:
        pass

def ab():
    first()
    with a:
        with b:
            pass

def ac():
    first()
    time.sleep(0.3)         # the main thread holds a by now: this waits
    with a:
        with c:
            pass

def ba():
    with b:
        with a:
            pass

def ca():
    with c:
        with a:
            pass

for target in (ab, ba):
    t = threading.Thread(target=target, name=target.__name__)
    t.start()
    t.join()
t = threading.Thread(target=ac, name="ac")
with a:
    t.start()
    time.sleep(0.6)
t.join()
t = threading.Thread(target=ca, name="ca")
t.start()
t.join()
print("done")
