// Watching C++ variables by the names the program gives them: a namespace
// member (stats::hits, mangled _ZN5stats4hitsE), a class's static member
// (Meter::ticks), a file-scope static (misses, mangled _ZL6misses) and a
// variable of an anonymous namespace (drops). Nothing is annotated. Each
// is incremented by two threads with no lock, in two statements (a load,
// then a store: a lost update lockrace can observe), except guarded, which
// is only touched under a std::mutex (clean).
//
//   watch_cxx lambda: the threads run a lambda that updates stats::hits
//   itself. GCC marks a lambda's operator() artificial in the debug
//   information, as it does inline wrappers that reports skip; the
//   lambda's lines are the program's and must be shown.
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

namespace stats {
long hits;
}
struct Meter {
    static long ticks;
};
long Meter::ticks;
static long misses;
namespace {
long drops;
}
long guarded;
static std::mutex guard;

#define ROUNDS 20000

template <typename T> static void bump(T &v)
{
    T seen = *static_cast<volatile T *>(&v);
    *static_cast<volatile T *>(&v) = seen + 1;
}

static void worker()
{
    for (long i = 0; i < ROUNDS; i++) {
        bump(stats::hits);
        bump(Meter::ticks);
        bump(misses);
        bump(drops);
        std::lock_guard<std::mutex> g(guard);
        bump(guarded);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && !std::strcmp(argv[1], "lambda")) {
        auto body = [] {
            for (long i = 0; i < ROUNDS; i++) {
                long seen = *static_cast<volatile long *>(&stats::hits);
                *static_cast<volatile long *>(&stats::hits) = seen + 1;
            }
        };
        std::thread a(body), b(body);
        a.join();
        b.join();
        std::printf("hits %ld\n", stats::hits);
        return 0;
    }
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    std::printf("hits %ld ticks %ld misses %ld drops %ld guarded %ld\n", stats::hits, Meter::ticks,
                misses, drops, guarded);
    return 0;
}
