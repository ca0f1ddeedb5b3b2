#ifndef CLOGBOOK_CRYPTO_SHIM_H
#define CLOGBOOK_CRYPTO_SHIM_H
/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but EVP's per-digest
   set-up costs more than hashing one small event; they still select the SHA extensions. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

static inline void clogbook_sha256_init(SHA256_CTX *c) { SHA256_Init(c); }
static inline void clogbook_sha256_update(SHA256_CTX *c, const void *p, size_t n) { SHA256_Update(c, p, n); }
static inline void clogbook_sha256_final(SHA256_CTX *c, unsigned char *out) { SHA256_Final(out, c); }
#endif
