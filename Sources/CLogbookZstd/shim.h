#ifndef CLOGBOOK_ZSTD_SHIM_H
#define CLOGBOOK_ZSTD_SHIM_H
#include <zstd.h>
#include <zdict.h>

// ZSTD_CONTENTSIZE_UNKNOWN / _ERROR are macros with a cast Swift cannot import.
static inline int clogbook_zstd_content_size_known(unsigned long long size) {
    return size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR;
}
#endif
