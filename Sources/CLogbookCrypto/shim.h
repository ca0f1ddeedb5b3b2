#ifndef CLOGBOOK_CRYPTO_SHIM_H
#define CLOGBOOK_CRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/rand.h>
#endif
