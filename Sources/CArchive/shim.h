// libarchive, seen from Swift: reading tar archives and writing their entries to disk.
#include <archive.h>
#include <archive_entry.h>
