# shellcheck shell=bash disable=SC2034,SC2154
# Everyday tools with threads or helper processes: git, rsync, sqlite3's
# sorter threads, openssl speed's workers, gpg and its agent, ImageMagick and
# GraphicsMagick (OpenMP), ripgrep and hashdeep (worker pools), par2,
# stress-ng's mutex stressor, sysbench, ffmpeg, ghostscript.
# Sourced by run.sh.

# a tree of 200 small files cut from SMALL (need_data first)
small_tree() {
    mkdir -p "$1"
    split -n 200 -d -a 3 "$SMALL" "$1/part."
    touch -d @0 "$1" "$1"/*
}

# git: commits with fixed names and dates, so that every hash is the same.
export GIT_AUTHOR_NAME=lockrace GIT_AUTHOR_EMAIL=lockrace@example.org
export GIT_COMMITTER_NAME=lockrace GIT_COMMITTER_EMAIL=lockrace@example.org
export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'
export GIT_CONFIG_NOSYSTEM=1

program git fast git git "git: commit a tree, clone --no-local, gc with pack.threads=2, grep --threads=2, fsck" \
    via=launcher
prog_git() {
    need_data
    small_tree src
    cp -r "$HERE/project" src/project
    step init /dev/null "$DIR/init.out" git -c init.defaultBranch=main init -q src
    step add /dev/null "$DIR/add.out" git -C src add .
    step commit /dev/null "$DIR/commit.out" git -C src commit -q -m 'a tree'
    sed -i 's/^/changed /' src/part.00*
    step commit2 /dev/null "$DIR/commit2.out" git -C src commit -q -a -m 'changed'
    step clone /dev/null "$DIR/clone.out" git -c pack.threads=2 clone -q --no-local src clone
    step gc /dev/null "$DIR/gc.out" git -C clone -c pack.threads=2 gc -q
    step grep /dev/null "$DIR/grep.out" git -C clone grep --threads=2 -c -e 'pthread_[a-z_]*lock' -e 'changed [a-z]'
    step log /dev/null "$DIR/log.out" git -C clone log --format='%H %s'
    step fsck /dev/null "$DIR/fsck.out" git -C clone fsck --full --strict
}

program rsync fast rsync rsync "rsync -a, then --checksum --delete with changes (sender, receiver, generator)"
prog_rsync() {
    need_data
    small_tree src
    step copy /dev/null "$DIR/copy.out" rsync -a -i src/ dst/
    sed -i 's/^/changed /' src/part.01*
    rm src/part.19*
    touch -d @0 src/*
    step update /dev/null "$DIR/update.out" rsync -a -i --checksum --delete src/ dst/
    helper verify /dev/null "$DIR/verify.out" diff -r src dst
}

program sqlite3 fast sqlite3 sqlite3 "sqlite3 with PRAGMA threads=2: 100,000 rows, indexes sorted by worker threads, queries"
prog_sqlite3() {
    step sql /dev/stdin "$DIR/sql.out" sqlite3 db.sqlite <<'EOF2'
PRAGMA threads = 2;
PRAGMA cache_size = -2000;
CREATE TABLE t(a INTEGER, b TEXT, c REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO t SELECT (i * 7919) % 100003, printf('row %08d', (i * 104729) % 300007), i / 3.0 FROM n;
CREATE INDEX ta ON t(a);
CREATE INDEX tb ON t(b, a);
SELECT count(*), sum(a), min(b), max(b) FROM t;
SELECT a, count(*) FROM t GROUP BY a ORDER BY count(*) DESC, a LIMIT 3;
SELECT b FROM t WHERE a BETWEEN 500 AND 505 ORDER BY b;
PRAGMA integrity_check;
EOF2
}

# Only what openssl speed's report says (algorithm, sizes), not its figures.
program openssl fast openssl openssl "openssl speed -multi 2 (forked workers, 1 s), enc and dgst"
prog_openssl() {
    NOERR=1 step speed /dev/null "$WORK/speed.out" openssl speed -multi 2 -seconds 1 -bytes 16384 -mr sha256
    grep -E '^\+F' "$WORK/speed.out" | sed -E 's/:[0-9.]+$/:N/' >"$DIR/speed.out"
    step enc /dev/null "$DIR/enc.out" sh -c 'head -c 1000000 /dev/zero | openssl enc -aes-256-ctr -K 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f -iv 000102030405060708090a0b0c0d0e0f | openssl dgst -sha256 -r'
}

# gpg: a new key (random: kept out of the comparison), a signature checked,
# a message encrypted to a passphrase and decrypted; gpg-agent (npth's
# threads) serves gpg and is stopped by gpgconf.
program gpg fast gnupg,gpg-agent gpg,gpgconf,gpg-agent "gpg: key generation, sign and verify, symmetric encrypt and decrypt (with gpg-agent)"
prog_gpg() {
    export GNUPGHOME=$WORK/gnupg
    mkdir -m 700 "$GNUPGHOME"
    printf 'a message for gpg, %s\n' {1..2000} >message
    NOERR=1 step genkey /dev/null "$WORK/genkey.out" \
        gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key 'lockrace <lockrace@example.org>' ed25519 sign never
    NOERR=1 step sign /dev/null "$WORK/sign.out" gpg --batch --yes --detach-sign -o message.sig message
    NOERR=1 step verify /dev/null "$WORK/verify.out" gpg --batch --verify message.sig message
    NOERR=1 step encrypt /dev/null "$WORK/encrypt.out" \
        gpg --batch --yes --pinentry-mode loopback --passphrase secret -c -o message.gpg message
    NOERR=1 step decrypt /dev/null "$DIR/decrypted" \
        gpg --batch --pinentry-mode loopback --passphrase secret -d message.gpg
    step stop /dev/null "$DIR/stop.out" gpgconf --kill all
}

program imagemagick fast imagemagick-6.q16 convert "ImageMagick convert (OpenMP, 2 threads): gradient, blur, resize, rotate"
prog_imagemagick() {
    step convert /dev/null "$DIR/convert.out" convert -limit thread 2 -size 800x600 gradient:red-blue \
        -blur 0x6 -resize 75% -rotate 30 -sharpen 0x2 ppm:out.ppm
    helper sum /dev/null "$DIR/sum.out" sha256sum out.ppm
}

program graphicsmagick fast graphicsmagick gm "gm convert (OpenMP, 2 threads): gradient, blur, resize, rotate"
prog_graphicsmagick() {
    OMP_NUM_THREADS=2 step convert /dev/null "$DIR/convert.out" gm convert -size 800x600 gradient:red-blue \
        -blur 0x6 -resize 75% -rotate 30 -sharpen 0x2 ppm:out.ppm
    helper sum /dev/null "$DIR/sum.out" sha256sum out.ppm
}

# ripgrep and hashdeep print in the order their threads finish: sorted.
program ripgrep fast ripgrep rg "rg -j2: regex search over 200 files (Rust's threads)"
prog_ripgrep() {
    need_data
    small_tree tree
    step rg /dev/null "$WORK/rg.out" rg -j2 --no-heading -c -e 'ab[a-z]+ [a-z]*cd' -e '[0-9a-f]{12}ff$' tree
    sort "$WORK/rg.out" >"$DIR/rg.out"
}

program hashdeep fast hashdeep hashdeep "hashdeep -j2 -r: md5 and sha256 of 200 files"
prog_hashdeep() {
    need_data
    small_tree tree
    step hashdeep /dev/null "$WORK/hashdeep.out" hashdeep -j2 -r -l -c md5,sha256 tree
    sort "$WORK/hashdeep.out" >"$DIR/hashdeep.out"
}

program par2 fast par2 par2 "par2 create and verify -t2: 10% recovery data for 1 MiB in 20 blocks"
prog_par2() {
    need_data
    head -c 1M "$SMALL" >small
    step create /dev/null "$DIR/create.out" par2 create -q -q -t2 -b20 -r10 -n1 small.par2 small
    cp small.par2 small.vol*.par2 "$DIR/"
    step verify /dev/null "$DIR/verify.out" par2 verify -q -q -t2 small.par2
}

# stress-ng's figures change from run to run: its status says whether it passed.
# (Not --mutex: on 2 CPUs its SCHED_FIFO threads fail to start now and then,
# natively too. Not --pthread: its stressor crashes with SIGSEGV now and
# then natively (stress-ng 0.15.06, seen in a native run of tests/run), and a
# comparison with a native run that failed proves nothing.)
program stress_ng fast stress-ng stress-ng "stress-ng --sem 2 (4 threads each on a POSIX semaphore, 1 s)"
prog_stress_ng() {
    # -v: what failed, should one fail (kept with the run's files)
    NOERR=1 step sem /dev/null "$WORK/sem.out" stress-ng -v --sem 2 --sem-procs 4 --timeout 1
}

program sysbench fast sysbench sysbench "sysbench threads and mutex tests, 2 threads (its figures not compared)"
prog_sysbench() {
    NOERR=1 step threads /dev/null "$WORK/threads.out" sysbench threads --threads=2 --time=0 --events=500 run
    NOERR=1 step mutex /dev/null "$WORK/mutex.out" sysbench mutex --threads=2 --mutex-num=64 --mutex-locks=500 --mutex-loops=1000 run
}

program ffmpeg full ffmpeg ffmpeg "ffmpeg -threads 2: encode a test pattern with libx264 (frame threads), decode it (slice and frame)"
prog_ffmpeg() {
    step encode /dev/null "$DIR/encode.out" ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=640x360:rate=25:duration=4 \
        -c:v libx264 -preset veryfast -threads 2 -fflags +bitexact -flags:v +bitexact -f matroska out.mkv
    step decode /dev/null "$DIR/decode.out" ffmpeg -nostdin -v error -threads 2 -i out.mkv -f framemd5 -
    helper sum /dev/null "$DIR/sum.out" sha256sum out.mkv
}

program ghostscript full ghostscript gs "gs -dNumRenderingThreads=2: a page rendered in bands"
prog_ghostscript() {
    # a page of circles and text, drawn in 40-line bands by 2 threads
    cat >page.ps <<'EOF2'
%!PS
/Helvetica findfont 24 scalefont setfont
0 1 40 { /i exch def
  i 40 div 0.5 1 sethsbcolor 300 400 i 6 mul 20 add 0 360 arc stroke
  72 i 18 mul 36 add moveto (lockrace renders line ) show i 3 string cvs show } for
showpage
EOF2
    step gs /dev/null "$DIR/gs.out" gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=ppmraw -r150 \
        -dNumRenderingThreads=2 -dBandHeight=40 -dMaxBitmap=0 -sOutputFile=page.ppm page.ps
    helper sum /dev/null "$DIR/sum.out" sha256sum page.ppm
}
