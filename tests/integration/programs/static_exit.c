/* A statically linked program (CMakeLists.txt): lockrace cannot run in
 * it, so a watched program that execs it ends with no exit record of its
 * own. Exits with the status its argument names. */
#include <stdlib.h>

int main(int argc, char **argv)
{
    return argc > 1 ? atoi(argv[1]) : 0;
}
