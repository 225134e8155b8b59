#!/usr/bin/perl
# perl's ithreads for the real-program matrix: threads::shared variables
# under lock(), a Thread::Queue between producers and consumers,
# cond_wait/cond_broadcast, and a Thread::Semaphore. Prints only results
# that do not depend on scheduling.
use strict;
use warnings;
use threads;
use threads::shared;
use Thread::Queue;
use Thread::Semaphore;

my $total :shared = 0;
my $count :shared = 0;
my $q = Thread::Queue->new();
my @consumers = map {
    threads->create(sub {
        while (defined(my $item = $q->dequeue())) {
            lock($total);
            $total += $item;
            $count++;
        }
    });
} 1 .. 3;
my @producers = map {
    my $k = $_;
    threads->create(sub { $q->enqueue($k * 1000 + $_) for 0 .. 999; });
} 0 .. 3;
$_->join() for @producers;
$q->end();
$_->join() for @consumers;
print "queue: $count items, sum $total\n";

# a gate: every thread waits until all have arrived
my $arrived :shared = 0;
my @gate = map {
    threads->create(sub {
        lock($arrived);
        $arrived++;
        cond_broadcast($arrived);
        cond_wait($arrived) until $arrived == 4;
        return $arrived;
    });
} 1 .. 4;
my @seen = map { $_->join() } @gate;
print "gate: @seen\n";

my $sem = Thread::Semaphore->new(2);
my $inside :shared = 0;
my $most :shared = 0;
my @sem = map {
    threads->create(sub {
        for (1 .. 200) {
            $sem->down();
            { lock($inside); $inside++; $most = $inside if $inside > $most; }
            { lock($inside); $inside--; }
            $sem->up();
        }
    });
} 1 .. 4;
$_->join() for @sem;
print "semaphore: at most ", ($most <= 2 ? "2" : $most), " inside\n";
