internal import CCRC32C
public import NIOCore

/// CRC-32C (Castagnoli), the checksum of RecordBatch v2. `checksum` uses the CPU's
/// CRC instruction (SSE4.2 on x86_64, the ARMv8 CRC extension on arm64) when present,
/// chosen once at load time, and a portable slicing-by-8 table otherwise; both give
/// identical results.
public enum CRC32C {
    /// True when `checksum` runs on the hardware instruction.
    public static var isHardwareAccelerated: Bool { creek_crc32c_hardware_available() != 0 }

    /// Continues `crc` (the finished CRC of earlier bytes, 0 to start) over `bytes`.
    public static func update(_ crc: UInt32 = 0, bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return creek_crc32c(crc, base, bytes.count)
    }

    /// CRC-32C of the readable bytes of `buffer`.
    public static func checksum(_ buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { update(bytes: $0) }
    }

    /// CRC-32C of the readable bytes of `buffer` after its first `skipped` (no slice taken,
    /// so a caller that then writes the CRC into `buffer` does not copy it).
    public static func checksum(_ buffer: ByteBuffer, skipping skipped: Int) -> UInt32 {
        buffer.withUnsafeReadableBytes { bytes in
            skipped < bytes.count ? update(bytes: UnsafeRawBufferPointer(rebasing: bytes[max(0, skipped)...])) : 0
        }
    }

    /// CRC-32C of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        let array = Array(bytes)
        return array.withUnsafeBytes { update(bytes: $0) }
    }

    /// The portable implementation, whatever the CPU (for tests and benchmarks).
    public static func portable(_ crc: UInt32 = 0, bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return creek_crc32c_portable(crc, base, bytes.count)
    }

    /// The hardware implementation; equals `portable` when the CPU lacks the instruction.
    public static func hardware(_ crc: UInt32 = 0, bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return creek_crc32c_hardware(crc, base, bytes.count)
    }
}
