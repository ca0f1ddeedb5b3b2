#ifndef CLOGBOOK_ZSTD_SHIM_H
#define CLOGBOOK_ZSTD_SHIM_H
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
#endif
