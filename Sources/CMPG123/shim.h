// libmpg123, seen from Swift. Its `mpg123_param` & co. are macros Swift cannot
// call; the `*2` functions (mpg123_param2, mpg123_getparam2) are used instead.
#include <sys/types.h>
#include <mpg123.h>
