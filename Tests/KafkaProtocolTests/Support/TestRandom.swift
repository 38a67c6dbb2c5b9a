import KafkaProtocol
import NIOCore

/// A seeded generator (SplitMix64) so every test run sees the same values.
struct TestRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func nextBool() -> Bool { next() & 1 == 1 }

    /// Mostly uniform values, with the edges (0, -1, min, max) mixed in often.
    mutating func nextInteger<T: FixedWidthInteger>(_ type: T.Type) -> T {
        switch next() % 8 {
        case 0: return 0
        case 1: return T.max
        case 2: return T.min
        case 3: return T.isSigned ? T(truncatingIfNeeded: -1) : 1
        default: return T(truncatingIfNeeded: next())
        }
    }

    mutating func nextDouble() -> Double {
        switch next() % 4 {
        case 0: return 0
        case 1: return -1.5
        default: return Double(Int64(truncatingIfNeeded: next()) >> 11) / 1024
        }
    }

    mutating func nextUUID() -> KafkaUUID {
        next() % 4 == 0 ? .zero : KafkaUUID(high: next(), low: next())
    }

    private static let alphabet: [String] = ["a", "b", "z", "0", "-", "_", ".", " ", "é", "ß", "日", "本", "🦀", "\u{0}"]

    mutating func nextString() -> String {
        let length = next() % 10 == 0 ? Int(next() % 200) : Int(next() % 12)
        var result = ""
        for _ in 0..<length {
            result += Self.alphabet[Int(next() % UInt64(Self.alphabet.count))]
        }
        return result
    }

    mutating func nextBytes() -> ByteBuffer {
        let length = next() % 10 == 0 ? Int(next() % 400) : Int(next() % 16)
        var buffer = ByteBuffer()
        for _ in 0..<length {
            buffer.writeInteger(UInt8(truncatingIfNeeded: next()))
        }
        return buffer
    }

    /// Array sizes: often empty or small, sometimes past the one-byte varint boundary
    /// (at the outermost level only, so nested arrays stay small).
    mutating func nextArray<T>(depth: Int, _ element: (inout TestRandom) -> T) -> [T] {
        let count: Int
        switch next() % 20 {
        case 0..<4: count = 0
        case 19 where depth == 0: count = 128 + Int(next() % 72)
        default: count = 1 + Int(next() % (depth == 0 ? 4 : 2))
        }
        var result: [T] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            result.append(element(&self))
        }
        return result
    }

    /// Null one time in four when the version allows it.
    mutating func maybeNull<T>(_ allowed: Bool, _ make: (inout TestRandom) -> T) -> T? {
        if allowed && next() % 4 == 0 { return nil }
        return make(&self)
    }
}

/// A schema struct that can build random values valid for a version (generated).
protocol RandomInstance: KafkaStruct {
    static func random(version: Int16, using rng: inout TestRandom, depth: Int) -> Self
}
