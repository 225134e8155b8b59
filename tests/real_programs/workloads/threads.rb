# Ruby's threads for the real-program matrix: Mutex, ConditionVariable,
# Queue, SizedQueue and Thread#value, under the interpreter's own lock.
# Prints only results that do not depend on scheduling.
total = 0
lock = Mutex.new
q = SizedQueue.new(32)
producers = (0...4).map { |k| Thread.new { 1000.times { |i| q << k * 1000 + i } } }
consumers = (0...3).map do
  Thread.new do
    while (item = q.pop) != :done
      lock.synchronize { total += item }
    end
  end
end
producers.each(&:join)
3.times { q << :done }
consumers.each(&:join)
puts "queue: sum #{total}"

arrived = 0
cv = ConditionVariable.new
gate = (0...4).map do
  Thread.new do
    lock.synchronize do
      arrived += 1
      cv.broadcast
      cv.wait(lock) until arrived == 4
      arrived
    end
  end
end
puts "gate: #{gate.map(&:value).join(' ')}"

results = Queue.new
(0...4).map { |k| Thread.new { results << (1..20000).sum { |i| i * k } } }.each(&:join)
puts "values: #{Array.new(4) { results.pop }.sort.join(' ')}"
