// static_guard: C++'s function-local statics are initialised under a
// guard (__cxa_guard_acquire): a thread that meets the static while
// another initialises it waits for it. Here the initialiser takes M, and
// the main thread meets the static while holding M.
//
//   static_guard deadlock: the worker starts initialising (holds the
//     guard), main takes M and meets the static (waits for the guard),
//     the initialiser waits for M: a real deadlock, which must be
//     reported and ended (--ci), not hang.
//   static_guard clean: statics initialised by several threads at once,
//     nothing held: no report.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

static std::mutex M;
static volatile bool started;

static int make()
{
    started = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::lock_guard<std::mutex> g(M);
    return 1;
}

static int &instance()
{
    static int x = make();
    return x;
}

static int plain()
{
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return 7;
}

static int &shared_static()
{
    static int y = plain();
    return y;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "clean";
    if (!std::strcmp(mode, "clean")) {
        std::thread a([] { shared_static(); }), b([] { shared_static(); });
        shared_static();
        a.join();
        b.join();
        std::printf("clean %d\n", shared_static());
        return 0;
    }
    std::thread t([] { instance(); });
    while (!started)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    {
        std::lock_guard<std::mutex> g(M);
        std::printf("deadlock %d\n", instance());
    }
    t.join();
    return 0;
}
