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

/* Reduces the n >= 1 digests at nodes, in place, to the root of a tree of the given arity
   (2...16), written to out: each group of up to `arity` consecutive nodes of a level becomes
   SHA-256(prefix || its nodes), a group of one (the last of a level) is carried up unchanged.
   Each node's message is padded here and goes to the block function in one call. */
static inline void clogbook_sha256_tree_root(unsigned char *nodes, size_t n, size_t arity, unsigned char prefix,
                                             unsigned char *out) {
    unsigned char block[1 + 32 * 16 + 72];
    block[0] = prefix;
    while (n > 1) {
        size_t m = 0, i = 0;
        while (i < n) {
            size_t g = n - i < arity ? n - i : arity;
            if (g == 1) {
                memmove(nodes + 32 * m++, nodes + 32 * i++, 32);
                continue;
            }
            size_t len = 1 + 32 * g;
            size_t total = (len + 9 + 63) & ~(size_t)63;
            memcpy(block + 1, nodes + 32 * i, 32 * g);
            block[len] = 0x80;
            memset(block + len + 1, 0, total - len - 9);
            unsigned long long bits = (unsigned long long)len * 8;
            for (int b = 0; b < 8; b++) block[total - 1 - b] = (unsigned char)(bits >> (8 * b));
            SHA256_CTX c;
            SHA256_Init(&c);
            SHA256_Update(&c, block, total);
            clogbook_sha256_state(&c, nodes + 32 * m++);
            i += g;
        }
        n = m;
    }
    memcpy(out, nodes, 32);
}
#endif
