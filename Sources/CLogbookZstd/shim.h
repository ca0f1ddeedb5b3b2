#ifndef CLOGBOOK_ZSTD_SHIM_H
#define CLOGBOOK_ZSTD_SHIM_H
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
#include <string.h>

// ZSTD_CONTENTSIZE_UNKNOWN / _ERROR are macros with a cast Swift cannot import.
static inline int clogbook_zstd_content_size_known(unsigned long long size) {
    return size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR;
}

// fastCover training with fixed parameters: ZDICT_trainFromBuffer's default searches many
// (k, d) pairs, which costs seconds per tenant; one fixed pair costs milliseconds and loses
// little on the short, repetitive strings of activity events.
static inline size_t clogbook_zdict_train(void *dict, size_t capacity, const void *samples,
                                          const size_t *sizes, unsigned count, int level) {
    ZDICT_fastCover_params_t p;
    memset(&p, 0, sizeof p);
    p.k = 256;
    p.d = 8;
    p.f = 16;
    p.accel = 10;
    p.splitPoint = 1.0;
    p.zParams.compressionLevel = level;
    return ZDICT_trainFromBuffer_fastCover(dict, capacity, samples, sizes, count, p);
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
