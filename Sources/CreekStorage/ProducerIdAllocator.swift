import NIOConcurrencyHelpers

/// Hands out producer ids that are never reused, across restarts: ids are reserved in
/// blocks of 1,000 whose upper end is written to `meta/producer-ids` (atomically) before
/// any id of the block is used, so a crash skips at most the rest of a block.
public final class ProducerIdAllocator: Sendable {
    private struct State {
        var next: Int64
        var reservedUpTo: Int64
    }

    private let path: String
    private let files: any FileOperations
    private let state: NIOLockedValueBox<State>
    static let blockSize: Int64 = 1000

    public init(dataDirectory: String, files: any FileOperations = PosixFileOperations()) throws(StorageError) {
        try files.makeDirectoryDurably(dataDirectory + "/meta")
        path = dataDirectory + "/meta/producer-ids"
        self.files = files
        var start: Int64 = 1000
        if let bytes = try? files.readAll(path), let saved = Int64(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }) {
            start = saved
        }
        state = NIOLockedValueBox(State(next: start, reservedUpTo: start))
    }

    public func nextId() throws(StorageError) -> Int64 {
        let result: Result<Int64, StorageError> = state.withLockedValue { state in
            if state.next >= state.reservedUpTo {
                let limit = state.next + Self.blockSize
                do {
                    try files.writeAtomically(Array(String(limit).utf8), to: path)
                } catch let error as StorageError {
                    return .failure(error)
                } catch {
                    return .failure(.closed)
                }
                state.reservedUpTo = limit
            }
            defer { state.next += 1 }
            return .success(state.next)
        }
        return try result.get()
    }
}
