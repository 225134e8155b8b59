# Tcl's Thread package for the real-program matrix: worker threads, a
# thread pool (tpool), a shared variable (tsv) and a mutex with a condition
# variable (thread::mutex, thread::cond). Prints only results that do not
# depend on scheduling.
package require Thread

set workers {}
for {set k 0} {$k < 4} {incr k} {
    lappend workers [thread::create -joinable {
        proc sum {k} { set s 0; for {set i 0} {$i < 20000} {incr i} { incr s [expr {$i * $k}] }; return $s }
        thread::wait
    }]
}
set sums {}
foreach w $workers k {0 1 2 3} {
    lappend sums [thread::send $w [list sum $k]]
}
foreach w $workers { thread::release $w }
foreach w $workers { thread::join $w }
puts "workers: $sums"

tsv::set counter n 0
set pool [tpool::create -minworkers 2 -maxworkers 4]
set jobs {}
for {set i 0} {$i < 16} {incr i} {
    lappend jobs [tpool::post $pool {
        for {set j 0} {$j < 500} {incr j} { tsv::incr counter n }
        tsv::get counter n
    }]
}
foreach job $jobs { tpool::wait $pool $job }
tpool::release $pool
puts "tpool: counter [tsv::get counter n]"

set m [thread::mutex create]
set c [thread::cond create]
tsv::set gate arrived 0
set gate {}
for {set k 0} {$k < 3} {incr k} {
    lappend gate [thread::create -joinable [list apply {{m c} {
        thread::mutex lock $m
        tsv::incr gate arrived
        thread::cond notify $c
        thread::mutex unlock $m
    }} $m $c]]
}
thread::mutex lock $m
while {[tsv::get gate arrived] < 3} { thread::cond wait $c $m 10000 }
thread::mutex unlock $m
foreach t $gate { thread::join $t }
thread::mutex destroy $m
thread::cond destroy $c
puts "gate: [tsv::get gate arrived] arrived"
