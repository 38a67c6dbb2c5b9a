import CreekSimulation
import CreekStorage
import KafkaProtocol
import NIOCore

/// The inputs Creek must survive whatever their bytes: each target feeds arbitrary bytes to
/// one decoder and must return (possibly with an error), never trap, hang or allocate
/// beyond the input. Driven by libFuzzer (`creek-fuzz`, `scripts/fuzz.sh`) and, for the
/// committed corpus, by the unit tests.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Length-prefixed frames, then each frame's request header.
    case frame
    /// A request body of any API key and version: the first three bytes pick them.
    case request
    /// Record batches: split, validated, their records iterated.
    case batch
    /// A segment's `.log` file recovered after a crash (validating scan and truncation).
    case segment

    public func run(_ bytes: [UInt8]) {
        switch self {
        case .frame: Self.frames(bytes)
        case .request: Self.request(bytes)
        case .batch: Self.batches(bytes)
        case .segment: Self.segment(bytes)
        }
    }

    static func frames(_ bytes: [UInt8]) {
        var buffer = ByteBuffer(bytes: bytes)
        let decoder = KafkaFrameDecoder(maximumFrameLength: 1 << 20)
        while let frame = try? decoder.nextFrame(from: &buffer) {
            _ = try? FramedRequest(frame: frame)
        }
    }

    static func request(_ bytes: [UInt8]) {
        guard bytes.count >= 3 else { return }
        let keys = ApiKey.allCases
        let key = keys[Int(bytes[0]) % keys.count]
        let type = key.requestType
        let span = Int(type.validVersions.upperBound - type.validVersions.lowerBound) + 1
        let version = type.validVersions.lowerBound + Int16(Int(bytes[1]) % span)
        var body = ByteBuffer(bytes: bytes.dropFirst(3))
        _ = try? type.init(from: &body, version: version)
    }

    static func batches(_ bytes: [UInt8]) {
        var buffer = ByteBuffer(bytes: bytes)
        while let batch = try? RecordBatch.next(from: &buffer) {
            if (try? batch.validate()) != nil {
                _ = try? batch.records()
            }
        }
    }

    static func segment(_ bytes: [UInt8]) {
        let files = SimulatedFileSystem()
        do {
            try files.makeDirectory("/p")
            let file = try files.open("/p/" + LogSegment.fileName(0, ".log"), create: true)
            try file.write([ByteBuffer(bytes: bytes)], at: 0)
            let segment = try LogSegment(directory: "/p", baseOffset: 0, indexIntervalBytes: 64, recover: true, nowMs: 0, files: files)
            for header in try segment.headers(from: 0) {
                _ = try segment.readBatch(header)
            }
        } catch {
            return
        }
    }
}
