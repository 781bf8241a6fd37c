#ifndef TACHO_CZSTD_SHIM_H
#define TACHO_CZSTD_SHIM_H
#include <zstd.h>
#endif
