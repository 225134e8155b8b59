// The AB-BA inversion in C++: std::mutex and std::shared_mutex call the
// pthread functions, so lockrace sees them with no change to the program.
// Account::transfer locks the source then the destination: two transfers
// in opposite directions take the same two mutexes in opposite orders. The
// threads run one after the other, so this run does not hang; lockrace
// reports the cycle. The shared_mutex readers (audit) are clean: readers
// in any order never block each other.
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <thread>

struct Account {
    std::mutex lock;
    long balance = 100;
};

static Account alice, bob;
static std::shared_mutex ledger_lock;

static void transfer(Account &from, Account &to, long amount)
{
    std::lock_guard<std::mutex> hold_from(from.lock);
    std::lock_guard<std::mutex> hold_to(to.lock);   // the other transfer takes these the other way
    from.balance -= amount;
    to.balance += amount;
    std::unique_lock<std::shared_mutex> write(ledger_lock);
}

static long audit()
{
    std::shared_lock<std::shared_mutex> read(ledger_lock);
    return alice.balance + bob.balance;
}

int main()
{
    std::thread t1(transfer, std::ref(alice), std::ref(bob), 10);
    t1.join();
    std::thread t2(transfer, std::ref(bob), std::ref(alice), 5);
    t2.join();
    std::thread a(audit), b(audit);
    a.join();
    b.join();
    std::printf("alice %ld, bob %ld, total %ld\n", alice.balance, bob.balance, audit());
    return 0;
}
