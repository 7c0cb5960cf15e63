// libcurl, seen from Swift. curl_easy_setopt is variadic, which Swift cannot call, so
// this shim offers one plain function for the one transfer MoodDex needs.
#ifndef CCURL_H
#define CCURL_H
#include <stdio.h>

/// Called with bytes received so far in this transfer and the transfer's total (0 if
/// unknown); return non-zero to abort.
typedef int (*ccurl_progress)(void *context, long long received, long long total);

/// GET `url` into `out` (appending), asking for bytes from `resume_from` on when it is > 0.
/// Returns 0 on success, otherwise a libcurl error code; `http_status` receives the HTTP
/// status and `error` (at least 256 bytes) a message. Fails on HTTP status >= 400, on
/// connections slower than 1 KB/s for `stall_seconds`, and never follows more than 5 redirects.
int ccurl_get(const char *url, FILE *out, long long resume_from, long stall_seconds,
              long *http_status, char *error, ccurl_progress progress, void *context);

#endif
