/// Snappy, implemented here (no system library is assumed). Kafka batches carry either raw
/// snappy (librdkafka, kafka-python) or the xerial framing of the Java client: an 8-byte
/// magic, two 4-byte versions, then blocks each prefixed with a 4-byte big-endian length.
/// Reading accepts both; writing uses the xerial framing, which every client reads.
enum Snappy {
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    /// The Java client's block size.
    static let xerialBlock = 32 << 10

    static func decompressAny(_ input: [UInt8], limit: Int) throws(CompressionError) -> [UInt8] {
        guard input.count >= 16, Array(input[0..<8]) == xerialMagic else {
            return try decompressRaw(input[...], limit: limit)
        }
        var output: [UInt8] = []
        var position = 16
        while position < input.count {
            guard position + 4 <= input.count else { throw .corrupt(.snappy, "truncated xerial block length") }
            let length = input[position..<position + 4].reduce(0) { $0 << 8 | Int($1) }
            position += 4
            guard length >= 0, position + length <= input.count else { throw .corrupt(.snappy, "xerial block past the end") }
            output += try decompressRaw(input[position..<position + length], limit: limit - output.count)
            position += length
        }
        return output
    }

    static func compressFramed(_ input: [UInt8]) -> [UInt8] {
        var output = xerialMagic + [0, 0, 0, 1, 0, 0, 0, 1]
        var start = 0
        repeat {
            let end = min(input.count, start + xerialBlock)
            let block = compressRaw(input[start..<end])
            let length = UInt32(block.count)
            output += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            output += block
            start = end
        } while start < input.count
        return output
    }

    // MARK: - Raw format

    static func decompressRaw(_ input: ArraySlice<UInt8>, limit: Int) throws(CompressionError) -> [UInt8] {
        var position = input.startIndex
        var expected = 0
        var shift = 0
        while true {
            guard position < input.endIndex, shift <= 28 else { throw .corrupt(.snappy, "bad length preamble") }
            let byte = input[position]
            position += 1
            expected |= Int(byte & 0x7F) << shift
            shift += 7
            if byte < 0x80 { break }
        }
        guard expected <= limit else { throw .tooLarge(.snappy, limit: limit) }
        var output: [UInt8] = []
        output.reserveCapacity(expected)
        while position < input.endIndex {
            let tag = input[position]
            position += 1
            switch tag & 0x03 {
            case 0:
                var length = Int(tag >> 2) + 1
                if length > 60 {
                    let extra = length - 60
                    guard position + extra <= input.endIndex else { throw .corrupt(.snappy, "truncated literal length") }
                    length = 1 + (0..<extra).reduce(0) { $0 | Int(input[position + $1]) << (8 * $1) }
                    position += extra
                }
                guard position + length <= input.endIndex, output.count + length <= expected else {
                    throw .corrupt(.snappy, "literal past the end")
                }
                output += input[position..<position + length]
                position += length
            default:
                let length: Int
                let offset: Int
                switch tag & 0x03 {
                case 1:
                    guard position < input.endIndex else { throw .corrupt(.snappy, "truncated copy") }
                    length = 4 + Int(tag >> 2 & 0x07)
                    offset = Int(tag >> 5) << 8 | Int(input[position])
                    position += 1
                case 2:
                    guard position + 2 <= input.endIndex else { throw .corrupt(.snappy, "truncated copy") }
                    length = Int(tag >> 2) + 1
                    offset = Int(input[position]) | Int(input[position + 1]) << 8
                    position += 2
                default:
                    guard position + 4 <= input.endIndex else { throw .corrupt(.snappy, "truncated copy") }
                    length = Int(tag >> 2) + 1
                    offset = (0..<4).reduce(0) { $0 | Int(input[position + $1]) << (8 * $1) }
                    position += 4
                }
                guard offset > 0, offset <= output.count, output.count + length <= expected else {
                    throw .corrupt(.snappy, "copy outside the output")
                }
                // Byte by byte: a copy may overlap the bytes it produces.
                let from = output.count - offset
                for index in 0..<length { output.append(output[from + index]) }
            }
        }
        guard output.count == expected else { throw .corrupt(.snappy, "\(output.count) bytes, preamble says \(expected)") }
        return output
    }

    /// Greedy compression with a hash table of 4-byte sequences, in 64 KiB blocks (copies
    /// never reach back further), emitting literals and copies with 2-byte offsets.
    static func compressRaw(_ input: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count + input.count / 6 + 8)
        var length = input.count
        repeat {
            output.append(UInt8(length & 0x7F) | (length >= 0x80 ? 0x80 : 0))
            length >>= 7
        } while length > 0
        let bytes = Array(input)
        var blockStart = 0
        while blockStart < bytes.count {
            let blockEnd = min(bytes.count, blockStart + (64 << 10))
            compressBlock(bytes, blockStart, blockEnd, into: &output)
            blockStart = blockEnd
        }
        return output
    }

    private static func compressBlock(_ bytes: [UInt8], _ start: Int, _ end: Int, into output: inout [UInt8]) {
        var table = [Int](repeating: -1, count: 1 << 14)
        func word(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        var literalStart = start
        var position = start
        while position + 4 <= end {
            let current = word(position)
            let slot = Int((current &* 0x1E35_A7BD) >> 18)
            let candidate = table[slot]
            table[slot] = position
            guard candidate >= start, word(candidate) == current else {
                position += 1
                continue
            }
            var matchEnd = position + 4
            while matchEnd < end, bytes[matchEnd] == bytes[candidate + matchEnd - position] { matchEnd += 1 }
            emitLiteral(bytes, literalStart, position, into: &output)
            var remaining = matchEnd - position
            let offset = position - candidate
            while remaining > 0 {
                // Copies of 1..64 bytes; never leave a remainder under 4 (a copy needs 1+).
                let piece = remaining > 64 ? (remaining - 64 < 4 ? 60 : 64) : remaining
                output.append(UInt8(piece - 1) << 2 | 0x02)
                output.append(UInt8(offset & 0xFF))
                output.append(UInt8(offset >> 8))
                remaining -= piece
            }
            position = matchEnd
            literalStart = matchEnd
        }
        emitLiteral(bytes, literalStart, end, into: &output)
    }

    private static func emitLiteral(_ bytes: [UInt8], _ start: Int, _ end: Int, into output: inout [UInt8]) {
        let length = end - start
        guard length > 0 else { return }
        let stored = length - 1
        if stored < 60 {
            output.append(UInt8(stored) << 2)
        } else {
            var extra: [UInt8] = []
            var value = stored
            while value > 0 {
                extra.append(UInt8(value & 0xFF))
                value >>= 8
            }
            output.append(UInt8(59 + extra.count) << 2)
            output += extra
        }
        output += bytes[start..<end]
    }
}
