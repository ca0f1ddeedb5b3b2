#ifndef CLOGBOOK_CRYPTO_SHIM_H
#define CLOGBOOK_CRYPTO_SHIM_H
/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but EVP's per-digest
   set-up costs more than hashing one small event; they still select the SHA extensions. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

static inline void clogbook_sha256_init(SHA256_CTX *c) { SHA256_Init(c); }
static inline void clogbook_sha256_update(SHA256_CTX *c, const void *p, size_t n) { SHA256_Update(c, p, n); }
static inline void clogbook_sha256_final(SHA256_CTX *c, unsigned char *out) { SHA256_Final(out, c); }

/* The state of a context that has taken only whole blocks, as a digest (big-endian words). */
static inline void clogbook_sha256_state(const SHA256_CTX *c, unsigned char *out) {
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c->h[i];
    }
}

/* SHA-256 of the n bytes at p, padded in place: p must have room for 72 bytes more. The message
   and its padding go to the block function in one call; SHA256_Final's buffering, padding copy
   and cleansing cost more than a short message's blocks. */
static inline void clogbook_sha256_padded(unsigned char *p, size_t n, unsigned char *out) {
    size_t total = (n + 9 + 63) & ~(size_t)63;
    p[n] = 0x80;
    memset(p + n + 1, 0, total - n - 9);
    unsigned long long bits = (unsigned long long)n * 8;
    for (int i = 0; i < 8; i++) p[total - 1 - i] = (unsigned char)(bits >> (8 * i));
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, p, total);
    clogbook_sha256_state(&c, out);
}

/* Reduces the n >= 1 digests at nodes, in place, to their Merkle root (written to out): each
   pair (a, b) becomes SHA-256(prefix || a || b), an odd last node is carried up unchanged. */
static inline void clogbook_sha256_pairwise_root(unsigned char *nodes, size_t n, unsigned char prefix,
                                                unsigned char *out) {
    unsigned char block[128];
    memset(block, 0, sizeof block);
    block[0] = prefix;
    block[65] = 0x80;
    block[126] = (65 * 8) >> 8; /* the message length in bits, big-endian */
    block[127] = (65 * 8) & 0xFF;
    while (n > 1) {
        size_t m = 0, i = 0;
        for (; i + 1 < n; i += 2, m++) {
            memcpy(block + 1, nodes + 32 * i, 64);
            SHA256_CTX c;
            SHA256_Init(&c);
            SHA256_Update(&c, block, sizeof block);
            clogbook_sha256_state(&c, nodes + 32 * m);
        }
        if (i < n) memmove(nodes + 32 * m++, nodes + 32 * i, 32);
        n = m;
    }
    memcpy(out, nodes, 32);
}
#endif
