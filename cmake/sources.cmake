# The sources of each layer of the library (docs/architecture.md), relative
# to the repository: the build (CMakeLists.txt) and the fuzz targets
# (tests/fuzz/CMakeLists.txt) both read them, so that neither can miss a file.
set(lr_support_sources src/support/arena.c src/support/bigstack.c src/support/options.c
    src/support/idtable.c src/support/stack.c src/support/unwind.c src/support/symbolize.c src/support/symbolize_data.c src/support/util.c src/support/python.c)
set(lr_model_sources src/model/held.c src/model/lockreg.c src/model/thread.c)
set(lr_report_sources src/report/deadlock.c src/report/describe.c src/report/lockorder.c
    src/report/misuse.c src/report/output.c src/report/race.c src/report/report.c
    src/report/stacks.c src/report/suppress.c src/report/pystack.c src/report/graph.c)
set(lr_lockorder_sources src/detect/lockgraph.c src/detect/lockgraph_kept.c src/detect/lockgraph_settled.c src/detect/lockgraph_back.c
    src/detect/lockorder.c)
set(lr_waitfor_sources src/detect/waitfor.c)
set(lr_misuse_sources src/detect/misuse.c)
set(lr_race_sources src/detect/race.c src/detect/race_clock.c src/detect/race_report.c)
set(lr_runtime_sources src/runtime/annotate.c src/runtime/api.c src/runtime/io.c src/runtime/mutex.c src/runtime/runtime.c
    src/runtime/rwlock.c src/runtime/semaphore.c src/runtime/wait.c src/runtime/watchdog.c
    src/runtime/pylock.c)
set(lr_watch_sources src/watch/access.c src/watch/callee.c src/watch/decode.c src/watch/flow.c src/watch/names.c src/watch/patch.c src/watch/vars.c
    src/watch/watch.c src/watch/watch_stub.S)
set(core_sources ${lr_support_sources} ${lr_model_sources} ${lr_report_sources}
    ${lr_lockorder_sources} ${lr_waitfor_sources} ${lr_misuse_sources} ${lr_race_sources}
    ${lr_runtime_sources} ${lr_watch_sources})
