/// lz4 in the LZ4 frame format (what Kafka's clients write since KIP-57), through the
/// system's liblz4 loaded at run time.
enum LZ4Frame {
    typealias IsError = @convention(c) (Int) -> UInt32
    typealias CreateContext = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UInt32) -> Int
    typealias FreeContext = @convention(c) (OpaquePointer?) -> Int
    typealias Decompress = @convention(c) (
        OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>, UnsafeRawPointer?, UnsafeMutablePointer<Int>, UnsafeRawPointer?
    ) -> Int
    typealias Bound = @convention(c) (Int, UnsafeRawPointer?) -> Int
    typealias CompressFrame = @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeRawPointer?, Int, UnsafeRawPointer?) -> Int

    struct Library: Sendable {
        let isError: IsError
        let createContext: CreateContext
        let freeContext: FreeContext
        let decompress: Decompress
        let bound: Bound
        let compressFrame: CompressFrame
    }

    static let library: Library? = {
        guard let lib = SharedLibrary(["liblz4.so.1", "liblz4.so", "liblz4.dylib"]),
              let isError = lib.function("LZ4F_isError", as: IsError.self),
              let create = lib.function("LZ4F_createDecompressionContext", as: CreateContext.self),
              let free = lib.function("LZ4F_freeDecompressionContext", as: FreeContext.self),
              let decompress = lib.function("LZ4F_decompress", as: Decompress.self),
              let bound = lib.function("LZ4F_compressFrameBound", as: Bound.self),
              let compress = lib.function("LZ4F_compressFrame", as: CompressFrame.self)
        else { return nil }
        return Library(isError: isError, createContext: create, freeContext: free, decompress: decompress, bound: bound, compressFrame: compress)
    }()

    private static let missing = CompressionError.unavailable(.lz4, "liblz4.so.1 could not be loaded")
    /// LZ4F_VERSION of the frame API.
    private static let apiVersion: UInt32 = 100

    /// LZ4F_preferences_t (56 bytes): 64 KiB blocks, independent blocks (what Kafka's Java
    /// client reads), no checksums, default level.
    private static let preferences: [UInt8] = {
        var bytes = [UInt8](repeating: 0, count: 56)
        bytes[0] = 4  // blockSizeID: max64KB
        bytes[4] = 1  // blockMode: independent
        return bytes
    }()

    static func compress(_ input: [UInt8]) throws(CompressionError) -> [UInt8] {
        guard let lz4 = library else { throw missing }
        var output: [UInt8] = []
        let written = preferences.withUnsafeBytes { prefs -> Int in
            output = [UInt8](repeating: 0, count: lz4.bound(input.count, prefs.baseAddress))
            return input.withUnsafeBytes { source in
                output.withUnsafeMutableBytes { target in
                    lz4.compressFrame(target.baseAddress, target.count, source.baseAddress, source.count, prefs.baseAddress)
                }
            }
        }
        guard lz4.isError(written) == 0 else { throw .corrupt(.lz4, "LZ4F_compressFrame failed") }
        output.removeLast(output.count - written)
        return output
    }

    static func decompress(_ input: [UInt8], limit: Int) throws(CompressionError) -> [UInt8] {
        guard let lz4 = library else { throw missing }
        var context: OpaquePointer?
        guard lz4.isError(lz4.createContext(&context, apiVersion)) == 0 else { throw .unavailable(.lz4, "no decompression context") }
        defer { _ = lz4.freeContext(context) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var consumed = 0
        while true {
            var produced = chunk.count
            var used = input.count - consumed
            let hint = input.withUnsafeBytes { source in
                chunk.withUnsafeMutableBytes { target in
                    lz4.decompress(context, target.baseAddress, &produced, source.baseAddress.map { $0 + consumed }, &used, nil)
                }
            }
            guard lz4.isError(hint) == 0 else { throw .corrupt(.lz4, "LZ4F_decompress failed") }
            consumed += used
            guard output.count + produced <= limit else { throw .tooLarge(.lz4, limit: limit) }
            output.append(contentsOf: chunk[0..<produced])
            if hint == 0 { return output }
            if used == 0 && produced == 0 { throw .corrupt(.lz4, "truncated frame") }
        }
    }
}
