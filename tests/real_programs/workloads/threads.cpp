// C++ threads for the real-program matrix (built by g++, then run):
// std::mutex, std::shared_mutex, std::condition_variable, std::async,
// std::call_once and std::scoped_lock over two mutexes. Prints only results
// that do not depend on scheduling.
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <thread>
#include <vector>

int main()
{
	std::mutex m;
	std::condition_variable cv;
	std::queue<int> q;
	bool done = false;
	long long total = 0;
	std::vector<std::thread> consumers;
	for (int k = 0; k < 3; k++)
		consumers.emplace_back([&] {
			for (;;) {
				std::unique_lock<std::mutex> l(m);
				cv.wait(l, [&] { return !q.empty() || done; });
				if (q.empty())
					return;
				total += q.front();
				q.pop();
			}
		});
	for (int i = 0; i < 20000; i++) {
		std::lock_guard<std::mutex> l(m);
		q.push(i);
		cv.notify_one();
	}
	{
		std::lock_guard<std::mutex> l(m);
		done = true;
	}
	cv.notify_all();
	for (auto &t : consumers)
		t.join();
	std::printf("queue: %lld\n", total);

	std::shared_mutex table;
	std::mutex a, b;
	std::once_flag once;
	int inits = 0;
	long long sums[2] = {0, 0};
	std::vector<std::future<long long>> parts;
	for (int k = 0; k < 4; k++)
		parts.push_back(std::async(std::launch::async, [&, k] {
			std::call_once(once, [&] { inits++; });
			long long s = 0;
			for (int i = 0; i < 5000; i++) {
				std::shared_lock<std::shared_mutex> r(table);
				std::scoped_lock both(a, b); // both in one deadlock-free step
				sums[k % 2] += i;
				s += i;
			}
			return s;
		}));
	long long all = 0;
	for (auto &f : parts)
		all += f.get();
	std::unique_lock<std::shared_mutex> w(table);
	std::printf("async: %lld = %lld + %lld, %d init\n", all, sums[0], sums[1], inits);
	return 0;
}
