/// zstd frames through the system's libzstd loaded at run time. Decompression streams, so
/// frames without a content size (the Java client's) are read as well as those with one.
enum Zstd {
    /// ZSTD_inBuffer / ZSTD_outBuffer: a pointer, its size, and the position reached.
    struct StreamBuffer {
        var pointer: UnsafeRawPointer?
        var size: Int
        var position: Int
    }

    typealias IsError = @convention(c) (Int) -> UInt32
    typealias Compress = @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeRawPointer?, Int, Int32) -> Int
    typealias Bound = @convention(c) (Int) -> Int
    typealias CreateStream = @convention(c) () -> OpaquePointer?
    typealias FreeStream = @convention(c) (OpaquePointer?) -> Int
    typealias DecompressStream = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int

    struct Library: Sendable {
        let isError: IsError
        let compress: Compress
        let bound: Bound
        let createStream: CreateStream
        let freeStream: FreeStream
        let decompressStream: DecompressStream
    }

    static let library: Library? = {
        guard let lib = SharedLibrary(["libzstd.so.1", "libzstd.so", "libzstd.dylib"]),
              let isError = lib.function("ZSTD_isError", as: IsError.self),
              let compress = lib.function("ZSTD_compress", as: Compress.self),
              let bound = lib.function("ZSTD_compressBound", as: Bound.self),
              let create = lib.function("ZSTD_createDStream", as: CreateStream.self),
              let free = lib.function("ZSTD_freeDStream", as: FreeStream.self),
              let decompress = lib.function("ZSTD_decompressStream", as: DecompressStream.self)
        else { return nil }
        return Library(isError: isError, compress: compress, bound: bound, createStream: create, freeStream: free, decompressStream: decompress)
    }()

    private static let missing = CompressionError.unavailable(.zstd, "libzstd.so.1 could not be loaded")

    static func compress(_ input: [UInt8], level: Int32 = 3) throws(CompressionError) -> [UInt8] {
        guard let zstd = library else { throw missing }
        var output = [UInt8](repeating: 0, count: zstd.bound(input.count))
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                zstd.compress(target.baseAddress, target.count, source.baseAddress, source.count, level)
            }
        }
        guard zstd.isError(written) == 0 else { throw .corrupt(.zstd, "ZSTD_compress failed") }
        output.removeLast(output.count - written)
        return output
    }

    static func decompress(_ input: [UInt8], limit: Int) throws(CompressionError) -> [UInt8] {
        guard let zstd = library else { throw missing }
        guard let stream = zstd.createStream() else { throw .unavailable(.zstd, "no decompression stream") }
        defer { _ = zstd.freeStream(stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 128 << 10)
        var consumed = 0
        while true {
            var hint = 0
            var produced = 0
            var used = 0
            input.withUnsafeBytes { source in
                chunk.withUnsafeMutableBytes { target in
                    var inBuffer = StreamBuffer(pointer: source.baseAddress, size: source.count, position: consumed)
                    var outBuffer = StreamBuffer(pointer: UnsafeRawPointer(target.baseAddress), size: target.count, position: 0)
                    hint = zstd.decompressStream(stream, &outBuffer, &inBuffer)
                    produced = outBuffer.position
                    used = inBuffer.position - consumed
                }
            }
            guard zstd.isError(hint) == 0 else { throw .corrupt(.zstd, "ZSTD_decompressStream failed") }
            consumed += used
            guard output.count + produced <= limit else { throw .tooLarge(.zstd, limit: limit) }
            output.append(contentsOf: chunk[0..<produced])
            // 0: a frame is complete. Kafka batches hold one frame; more input would be a
            // second frame, which the loop reads on.
            if hint == 0 && consumed == input.count { return output }
            if used == 0 && produced == 0 { throw .corrupt(.zstd, "truncated frame") }
        }
    }
}
