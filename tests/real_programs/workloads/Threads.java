// Java for the real-program matrix: synchronized, ReentrantLock with a
// Condition, an ExecutorService and a ConcurrentHashMap, on the JVM's own
// threads (compiler, GC). Prints only results that do not depend on scheduling.
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.concurrent.locks.*;

public class Threads {
    static long total;

    public static void main(String[] args) throws Exception {
        Thread[] ts = new Thread[4];
        for (int k = 0; k < ts.length; k++) {
            final int base = k * 100000;
            ts[k] = new Thread(() -> {
                for (int i = 0; i < 100000; i++)
                    synchronized (Threads.class) { total += base + i; }
            });
            ts[k].start();
        }
        for (Thread t : ts) t.join();
        System.out.println("synchronized: " + total);

        ReentrantLock lock = new ReentrantLock();
        Condition changed = lock.newCondition();
        int[] arrived = {0};
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Integer>> gate = new ArrayList<>();
        for (int k = 0; k < 4; k++)
            gate.add(pool.submit(() -> {
                lock.lock();
                try {
                    arrived[0]++;
                    changed.signalAll();
                    while (arrived[0] < 4)
                        if (!changed.await(30, TimeUnit.SECONDS))
                            throw new TimeoutException("gate");
                    return arrived[0];
                } finally {
                    lock.unlock();
                }
            }));
        StringBuilder seen = new StringBuilder();
        for (Future<Integer> f : gate) seen.append(' ').append(f.get(30, TimeUnit.SECONDS));
        System.out.println("gate:" + seen);

        ConcurrentHashMap<Integer, Long> map = new ConcurrentHashMap<>();
        List<Callable<Void>> jobs = new ArrayList<>();
        for (int k = 0; k < 8; k++)
            jobs.add(() -> { for (int i = 0; i < 20000; i++) map.merge(i % 100, 1L, Long::sum); return null; });
        for (Future<Void> f : pool.invokeAll(jobs)) f.get();
        pool.shutdown();
        if (!pool.awaitTermination(30, TimeUnit.SECONDS)) throw new TimeoutException("pool");
        long sum = 0;
        for (long v : map.values()) sum += v;
        System.out.println("map: " + map.size() + " keys, " + sum + " updates");
    }
}
