#ifndef CLOGBOOK_ZSTD_SHIM_H
#define CLOGBOOK_ZSTD_SHIM_H
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
// For tests: dictionaries in zstd's trained format are what stores before 2026-11-26 hold.
#include <zdict.h>
#include <string.h>

// ZSTD_CONTENTSIZE_UNKNOWN / _ERROR are macros with a cast Swift cannot import.
static inline int clogbook_zstd_content_size_known(unsigned long long size) {
    return size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR;
}

// One frame with a digested dictionary, content size and checksum, no dictionary id (the block
// header records it). The one-shot ZSTD_compress_usingCDict hard-codes "no checksum", and
// ZSTD_compress2 with a referenced dictionary costs about a tenth more CPU on our blocks.
static inline size_t clogbook_zstd_compress_dict(ZSTD_CCtx *cctx, void *dst, size_t capacity,
                                                 const void *src, size_t size, const ZSTD_CDict *dict) {
    ZSTD_frameParameters f;
    f.contentSizeFlag = 1;
    f.checksumFlag = 1;
    f.noDictIDFlag = 1;
    return ZSTD_compress_usingCDict_advanced(cctx, dst, capacity, src, size, dict, f);
}
#endif
