// Hardware CRC-32C (SSE4.2 `crc32` instruction) for TachoFormat's CRC32C, behind a CPU check.
// TachoFormat keeps its software slicing-by-8 as the fallback and as the reference.
#ifndef CCRC32C_H
#define CCRC32C_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU executes the SSE4.2 `crc32` instruction, else 0.
int ccrc32c_hardware_available(void);

/// Extends the raw (not pre/post-inverted) CRC-32C state `crc` over `n` bytes at `data`.
/// REQUIRES: ccrc32c_hardware_available() returned 1.
uint32_t ccrc32c_hardware_update(uint32_t crc, const void *data, size_t n);

#endif
