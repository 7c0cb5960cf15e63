#include "ccurl.h"
#include <curl/curl.h>
#include <string.h>

struct progress_context { ccurl_progress callback; void *context; };

static int on_progress(void *p, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un) {
    (void)ut; (void)un;
    struct progress_context *c = p;
    return c->callback ? c->callback(c->context, (long long)now, (long long)total) : 0;
}

int ccurl_get(const char *url, FILE *out, long long resume_from, long stall_seconds,
              long *http_status, char *error, ccurl_progress progress, void *context) {
    static int initialised = 0;
    if (!initialised) { curl_global_init(CURL_GLOBAL_DEFAULT); initialised = 1; }
    CURL *curl = curl_easy_init();
    if (!curl) { strcpy(error, "libcurl could not start a transfer"); return CURLE_FAILED_INIT; }
    struct progress_context pc = { progress, context };
    error[0] = 0;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);  // default write callback: fwrite
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, stall_seconds);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (resume_from > 0) curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)resume_from);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &pc);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    CURLcode code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, http_status);
    if (code != CURLE_OK && error[0] == 0) strncpy(error, curl_easy_strerror(code), 255);
    curl_easy_cleanup(curl);
    return (int)code;
}
