// CRC-32C with run-time selection between a hardware path and a portable one.
//
// Hardware path: three independent CRC streams over adjacent blocks keep the
// CPU's CRC unit busy (the instruction has a latency of ~3 cycles but can
// issue every cycle); the three partial CRCs are then merged with
// "append N zero bytes" operators, precomputed as byte tables for the two
// block sizes used. Portable path: slicing-by-8 tables.

#include "ccrc32c.h"
#include <string.h>

#define POLY 0x82F63B78u
#define LONG_BLOCK 2048
#define SHORT_BLOCK 256

static uint32_t slice_table[8][256];
static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];
static int hardware_available;

// Register after feeding `count` zero bytes, starting from register `reg`.
static uint32_t zeros_bitwise(uint32_t reg, size_t count) {
    for (size_t i = 0; i < count; i++) {
        reg = (reg >> 8) ^ slice_table[0][reg & 0xff];
    }
    return reg;
}

static void build_shift_table(uint32_t table[4][256], size_t count) {
    uint32_t basis[32];
    for (int bit = 0; bit < 32; bit++) {
        basis[bit] = zeros_bitwise(1u << bit, count);
    }
    for (int byte = 0; byte < 4; byte++) {
        for (uint32_t value = 0; value < 256; value++) {
            uint32_t result = 0;
            for (int bit = 0; bit < 8; bit++) {
                if (value & (1u << bit)) result ^= basis[byte * 8 + bit];
            }
            table[byte][value] = result;
        }
    }
}

static inline uint32_t shift(uint32_t table[4][256], uint32_t reg) {
    return table[0][reg & 0xff] ^ table[1][(reg >> 8) & 0xff] ^
           table[2][(reg >> 16) & 0xff] ^ table[3][reg >> 24];
}

static inline uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t portable_register(uint32_t reg, const unsigned char *p, size_t n) {
    while (n >= 8) {
        uint64_t word = load64(p) ^ reg;  // little-endian hosts only (x86_64, arm64)
        reg = slice_table[7][word & 0xff] ^ slice_table[6][(word >> 8) & 0xff] ^
              slice_table[5][(word >> 16) & 0xff] ^ slice_table[4][(word >> 24) & 0xff] ^
              slice_table[3][(word >> 32) & 0xff] ^ slice_table[2][(word >> 40) & 0xff] ^
              slice_table[1][(word >> 48) & 0xff] ^ slice_table[0][word >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) {
        reg = (reg >> 8) ^ slice_table[0][(reg ^ *p++) & 0xff];
    }
    return reg;
}

uint32_t creek_crc32c_portable(uint32_t crc, const void *data, size_t length) {
    return ~portable_register(~crc, (const unsigned char *)data, length);
}

#if defined(__x86_64__)
#include <cpuid.h>
#define HW_TARGET __attribute__((target("sse4.2")))
#define CRC8(r, p) __builtin_ia32_crc32qi((r), *(p))
#define CRC64(r, v) ((uint32_t)__builtin_ia32_crc32di((r), (v)))
static int detect_hardware(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & bit_SSE4_2) != 0;
}
#elif defined(__aarch64__)
#include <sys/auxv.h>
#include <arm_acle.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#define HW_TARGET __attribute__((target("crc")))
#define CRC8(r, p) __crc32cb((r), *(p))
#define CRC64(r, v) __crc32cd((r), (v))
static int detect_hardware(void) {
    return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
}
#endif

#if defined(HW_TARGET)
HW_TARGET static uint32_t hardware_register(uint32_t reg, const unsigned char *p, size_t n) {
    // Align to 8 bytes so the wide loads below are aligned.
    while (n && ((uintptr_t)p & 7)) {
        reg = CRC8(reg, p);
        p++;
        n--;
    }
    while (n >= 3 * LONG_BLOCK) {
        uint32_t r1 = 0, r2 = 0;
        const unsigned char *end = p + LONG_BLOCK;
        do {
            reg = CRC64(reg, load64(p));
            r1 = CRC64(r1, load64(p + LONG_BLOCK));
            r2 = CRC64(r2, load64(p + 2 * LONG_BLOCK));
            p += 8;
        } while (p < end);
        reg = shift(shift_long, reg) ^ r1;
        reg = shift(shift_long, reg) ^ r2;
        p += 2 * LONG_BLOCK;
        n -= 3 * LONG_BLOCK;
    }
    while (n >= 3 * SHORT_BLOCK) {
        uint32_t r1 = 0, r2 = 0;
        const unsigned char *end = p + SHORT_BLOCK;
        do {
            reg = CRC64(reg, load64(p));
            r1 = CRC64(r1, load64(p + SHORT_BLOCK));
            r2 = CRC64(r2, load64(p + 2 * SHORT_BLOCK));
            p += 8;
        } while (p < end);
        reg = shift(shift_short, reg) ^ r1;
        reg = shift(shift_short, reg) ^ r2;
        p += 2 * SHORT_BLOCK;
        n -= 3 * SHORT_BLOCK;
    }
    while (n >= 8) {
        reg = CRC64(reg, load64(p));
        p += 8;
        n -= 8;
    }
    while (n) {
        reg = CRC8(reg, p);
        p++;
        n--;
    }
    return reg;
}

uint32_t creek_crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    return ~hardware_register(~crc, (const unsigned char *)data, length);
}
#else
static int detect_hardware(void) { return 0; }
uint32_t creek_crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    return creek_crc32c_portable(crc, data, length);
}
#endif

__attribute__((constructor)) static void creek_crc32c_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t reg = n;
        for (int k = 0; k < 8; k++) reg = (reg & 1) ? (reg >> 1) ^ POLY : reg >> 1;
        slice_table[0][n] = reg;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t reg = slice_table[0][n];
        for (int k = 1; k < 8; k++) {
            reg = (reg >> 8) ^ slice_table[0][reg & 0xff];
            slice_table[k][n] = reg;
        }
    }
    build_shift_table(shift_long, LONG_BLOCK);
    build_shift_table(shift_short, SHORT_BLOCK);
    hardware_available = detect_hardware();
}

int creek_crc32c_hardware_available(void) { return hardware_available; }

uint32_t creek_crc32c(uint32_t crc, const void *data, size_t length) {
    if (hardware_available) return creek_crc32c_hardware(crc, data, length);
    return creek_crc32c_portable(crc, data, length);
}
