"""lockrace reads a Python program's frames and thread names without
running any of the program's code. An audit hook (sys.addaudithook) runs
Python code for every event it hears of: reading a function's __code__
raises one, and when lockrace read a thread's target that way, the hook
ran inside lockrace's pthread wrapper. In a child forked from a thread,
before the interpreter had made its GIL again, that hung the child
(CPython's test_threading, test_reinit_tls_after_fork: minutes, until the
test's own timeout). Clean: the hook hears nothing the program did not
do, every child exits, and the output is the native one."""
import os
import sys
import threading

heard = []
exits = []


def hook(event, args):
    if event == "object.__getattr__":
        heard.append(args[1])


sys.addaudithook(hook)


def work(lock, rounds):
    for _ in range(rounds):
        with lock:
            pass


def fork_and_wait():
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    _, status = os.waitpid(pid, 0)
    exits.append(os.waitstatus_to_exitcode(status))


lock = threading.Lock()
threads = [threading.Thread(target=work, args=(lock, 1000), name=f"worker-{i}") for i in range(4)]
threads += [threading.Thread(target=fork_and_wait, name=f"forker-{i}") for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("children's exit statuses:", sorted(exits))
print("attributes read behind the program's back:", sorted(set(heard)))
