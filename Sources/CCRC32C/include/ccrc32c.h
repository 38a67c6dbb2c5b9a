#ifndef CREEK_CCRC32C_H
#define CREEK_CCRC32C_H

#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) as used by Kafka's
/// RecordBatch v2. `crc` is the finished CRC of the data before `data`
/// (0 for a fresh computation); the result is the finished CRC of both.
/// Uses SSE4.2 (x86_64) or the ARMv8 CRC extension when the CPU has it.
uint32_t creek_crc32c(uint32_t crc, const void *data, size_t length);

/// The portable slicing-by-8 implementation, whatever the CPU.
uint32_t creek_crc32c_portable(uint32_t crc, const void *data, size_t length);

/// The hardware implementation; only valid when creek_crc32c_hardware_available() is 1.
uint32_t creek_crc32c_hardware(uint32_t crc, const void *data, size_t length);

/// 1 when the CPU has a CRC-32C instruction that this library uses, else 0.
int creek_crc32c_hardware_available(void);

#endif
