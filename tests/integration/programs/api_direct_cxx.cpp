/* api_direct.c built as C++: the header in a C++ program. */
#include "api_direct.c"
