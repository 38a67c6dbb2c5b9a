import CZlib

/// gzip through zlib (RFC 1952 framing, as Kafka's clients write it).
enum Gzip {
    static func compress(_ input: [UInt8]) throws(CompressionError) -> [UInt8] {
        var stream = z_stream()
        let initialised = zlibVersion().map { deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, $0, Int32(MemoryLayout<z_stream>.size)) }
        guard initialised == Z_OK else { throw .unavailable(.gzip, "deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        let status = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = UInt32(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw .corrupt(.gzip, "deflate returned \(status)") }
        output.removeLast(output.count - Int(stream.total_out))
        return output
    }

    static func decompress(_ input: [UInt8], limit: Int) throws(CompressionError) -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: accept gzip or zlib headers.
        let initialised = zlibVersion().map { inflateInit2_(&stream, 15 + 32, $0, Int32(MemoryLayout<z_stream>.size)) }
        guard initialised == Z_OK else { throw .unavailable(.gzip, "inflateInit2 failed") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(4096, min(limit, input.count * 4)))
        var input = input
        var status: Int32 = Z_OK
        let outcome: CompressionError? = input.withUnsafeMutableBufferPointer { source -> CompressionError? in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while status != Z_STREAM_END {
                let produced = chunk.withUnsafeMutableBufferPointer { target -> Int in
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(target.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return target.count - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END else { return .corrupt(.gzip, "inflate returned \(status)") }
                guard output.count + produced <= limit else { return .tooLarge(.gzip, limit: limit) }
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_OK, produced == 0, stream.avail_in == 0 { return .corrupt(.gzip, "truncated stream") }
            }
            return nil
        }
        if let outcome { throw outcome }
        return output
    }
}
