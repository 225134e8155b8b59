# shellcheck shell=bash disable=SC2034,SC2154
# Compressors and archivers: threads that each take a block (pigz, xz, zstd,
# pbzip2, lbzip2, plzip, pixz, 7-Zip, mksquashfs), and sort's parallel merge.
# Each output must also decompress to its input (the "verify" steps).
# Sourced by run.sh.

# verify NAME FILE: FILE must hold the input's bytes (a native cmp).
verify() { helper "$1" /dev/null "$DIR/$1.out" cmp "$2" "${3:-$SMALL}"; }

program pigz fast pigz pigz "pigz -p 2: compress and decompress 20 MiB"
prog_pigz() {
    need_data
    step compress "$DATA" "$DIR/data.gz" pigz -p 2 -c
    step decompress "$DIR/data.gz" "$WORK/data" pigz -p 2 -d -c
    verify verify "$WORK/data" "$DATA"
}

program xz fast xz-utils xz "xz -T2: compress and decompress 2 MiB in 256 KiB blocks"
prog_xz() {
    need_data
    # Blocks of 256 KiB: xz -T2 splits the input into blocks, one per thread
    # (with its default block size the file would be one block, one thread).
    # -1 keeps it fast.
    step compress "$SMALL" "$DIR/small.xz" xz -T2 -1 --block-size=256KiB -c
    step decompress "$DIR/small.xz" "$WORK/small" xz -T2 -d -c
    verify verify "$WORK/small"
}

program zstd fast zstd zstd "zstd -T2: compress and decompress 20 MiB"
prog_zstd() {
    need_data
    step compress "$DATA" "$DIR/data.zst" zstd -T2 -q -c
    step decompress "$DIR/data.zst" "$WORK/data" zstd -T2 -q -d -c
    verify verify "$WORK/data" "$DATA"
}

program lz4 fast lz4 lz4 "lz4: compress and decompress 20 MiB"
prog_lz4() {
    need_data
    step compress "$DATA" "$DIR/data.lz4" lz4 -q -c
    step decompress "$DIR/data.lz4" "$WORK/data" lz4 -q -d -c
    verify verify "$WORK/data" "$DATA"
}

program pbzip2 fast pbzip2 pbzip2 "pbzip2 -p2: compress and decompress 2 MiB"
prog_pbzip2() {
    need_data
    step compress "$SMALL" "$DIR/small.bz2" pbzip2 -p2 -c
    step decompress "$DIR/small.bz2" "$WORK/small" pbzip2 -p2 -d -c
    verify verify "$WORK/small"
}

program lbzip2 fast lbzip2 lbzip2 "lbzip2 -n2: compress and decompress 2 MiB"
prog_lbzip2() {
    need_data
    step compress "$SMALL" "$DIR/small.bz2" lbzip2 -n2 -c
    step decompress "$DIR/small.bz2" "$WORK/small" lbzip2 -n2 -d -c
    verify verify "$WORK/small"
}

program plzip fast plzip plzip "plzip -n2: compress and decompress 2 MiB in 512 KiB members"
prog_plzip() {
    need_data
    step compress "$SMALL" "$DIR/small.lz" plzip -n2 -0 -B 512KiB -c
    step decompress "$DIR/small.lz" "$WORK/small" plzip -n2 -d -c
    verify verify "$WORK/small"
}

program pixz fast pixz pixz "pixz -p2: compress and decompress 2 MiB (liblzma's threads)"
prog_pixz() {
    need_data
    step compress "$SMALL" "$DIR/small.pxz" pixz -p2 -1
    step decompress "$DIR/small.pxz" "$WORK/small" pixz -p2 -d
    verify verify "$WORK/small"
}

program 7zip fast 7zip 7zz "7zz -mmt2: LZMA2 archive of 2 MiB, test, extract"
prog_7zip() {
    need_data
    cp -p "$SMALL" "$WORK/small"
    # -bb0 -bd: no per-file lines, no progress; its banner names the CPU
    # and thread counts it found, the same in both runs.
    step add /dev/null "$DIR/add.out" 7zz a -bd -mx1 -mmt2 -m0=lzma2 -ms=off small.7z small
    step test /dev/null "$DIR/test.out" 7zz t -bd -mmt2 small.7z
    step extract /dev/null "$WORK/extracted" 7zz e -bd -mmt2 -so small.7z
    cp small.7z "$DIR/"
    verify verify "$WORK/extracted"
}

program squashfs fast squashfs-tools mksquashfs,unsquashfs "mksquashfs -processors 2 and unsquashfs of a 200-file tree"
prog_squashfs() {
    need_data
    mkdir -p tree
    split -n 200 -d -a 3 "$SMALL" tree/part.
    touch -d @0 tree tree/*
    step mksquashfs /dev/null "$DIR/mksquashfs.out" \
        mksquashfs tree tree.sqfs -processors 2 -noappend -no-progress -quiet \
                   -mkfs-time 0 -all-time 0 -all-root
    step unsquashfs /dev/null "$DIR/unsquashfs.out" \
        unsquashfs -processors 2 -no-progress -d back tree.sqfs
    cp tree.sqfs "$DIR/"
    cat back/part.* >"$WORK/joined"
    verify verify "$WORK/joined"
}

program sort fast coreutils sort "sort --parallel=2: 400,000 lines through 3 temporary files"
prog_sort() {
    need_data
    step sort "$LINES" "$DIR/sorted" sort --parallel=2 -S 10M -T "$WORK/tmp"
}
