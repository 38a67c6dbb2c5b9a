import KafkaProtocol
import NIOCore
import Testing

@Suite("CRC-32C")
struct CRC32CTests {
    @Test("standard test vectors")
    func vectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array(0..<32)) == 0x46DD_794E)
    }

    @Test("hardware and portable paths agree on random data of random lengths and alignments")
    func pathsAgree() {
        var rng = TestRandom(seed: 0xC4C)
        let data = (0..<70_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        data.withUnsafeBytes { all in
            for _ in 0..<500 {
                let start = Int(rng.next() % 64)
                let length = rng.next() % 4 == 0 ? Int(rng.next() % 65_000) : Int(rng.next() % 2000)
                let slice = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                let portable = CRC32C.portable(bytes: slice)
                #expect(CRC32C.hardware(bytes: slice) == portable, "length \(length) at \(start)")
                #expect(CRC32C.update(bytes: slice) == portable)
            }
        }
    }

    @Test("incremental updates equal one pass")
    func incremental() {
        let data = Array("The quick brown fox jumps over the lazy dog".utf8)
        let whole = CRC32C.checksum(data)
        for split in 0...data.count {
            let first = data[..<split].withUnsafeBytes { CRC32C.update(bytes: $0) }
            let both = data[split...].withUnsafeBytes { CRC32C.update(first, bytes: $0) }
            #expect(both == whole)
        }
    }

    #if arch(x86_64)
    @Test("this x86_64 machine uses SSE4.2")
    func hardwareDetected() {
        #expect(CRC32C.isHardwareAccelerated)
    }
    #endif
}
