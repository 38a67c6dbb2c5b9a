import ArgumentParser
import KafkaProtocol

/// `creek bench …`: micro-benchmarks that print figures (not tests; nothing asserts).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Print benchmark figures.",
        subcommands: [CRC32CBench.self, ProduceBench.self, ConsumeBench.self, EndToEndBench.self, StartupBench.self]
    )
}

/// CRC-32C throughput on one core, hardware path and portable path.
struct CRC32CBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crc32c",
        abstract: "CRC-32C throughput in GB/s for the hardware and portable paths."
    )

    @Option(help: "Buffer size in bytes.")
    var size = 16_384

    @Option(help: "Seconds to run each path.")
    var seconds = 1.0

    func run() {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<max(size, 1)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        print("CRC-32C, \(size)-byte buffers, one core, hardware instruction available: \(CRC32C.isHardwareAccelerated)")
        data.withUnsafeBytes { bytes in
            report("hardware", bytes: bytes) { CRC32C.hardware(bytes: $0) }
            report("portable", bytes: bytes) { CRC32C.portable(bytes: $0) }
        }
    }

    private func report(_ name: String, bytes: UnsafeRawBufferPointer, _ checksum: (UnsafeRawBufferPointer) -> UInt32) {
        var sink: UInt32 = 0
        var iterations = 0
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .seconds(seconds)
        while clock.now < deadline {
            for _ in 0..<64 {
                sink = sink &+ checksum(bytes)
            }
            iterations += 64
        }
        let elapsed = clock.now - start
        let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let gigabytesPerSecond = Double(iterations * bytes.count) / secondsElapsed / 1e9
        let hex = String(sink, radix: 16)
        let rounded = (gigabytesPerSecond * 100).rounded() / 100
        print("\(name): \(rounded) GB/s (checksum \(String(repeating: "0", count: max(0, 8 - hex.count)) + hex))")
    }
}
