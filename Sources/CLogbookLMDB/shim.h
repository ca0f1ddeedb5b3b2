#ifndef CLOGBOOK_LMDB_SHIM_H
#define CLOGBOOK_LMDB_SHIM_H
#include <lmdb.h>
#endif
