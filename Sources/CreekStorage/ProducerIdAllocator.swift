import NIOConcurrencyHelpers

/// Hands out producer ids that are never reused, across restarts: ids are reserved in
/// blocks of 1,000 whose upper end is written to `meta/producer-ids` (atomically) before
/// any id of the block is used, so a crash skips at most the rest of a block. With a
/// `reserveBlock` source (a database shared by several brokers), blocks come from it instead,
/// so no two brokers ever hand out the same id.
public final class ProducerIdAllocator: Sendable {
    /// Reserves a fresh block of `blockSize` ids and returns its first id.
    public typealias BlockSource = @Sendable () async throws(StorageError) -> Int64
    private struct State {
        var next: Int64
        var reservedUpTo: Int64
    }

    private let path: String
    private let files: any FileOperations
    private let state: NIOLockedValueBox<State>
    private let reserveBlock: BlockSource?
    public static let blockSize: Int64 = 1000

    /// Ids in blocks from `reserveBlock`; nothing is saved locally.
    public init(reserveBlock: @escaping BlockSource) {
        path = ""
        files = PosixFileOperations()
        self.reserveBlock = reserveBlock
        state = NIOLockedValueBox(State(next: 0, reservedUpTo: 0))
    }

    public init(dataDirectory: String, files: any FileOperations = PosixFileOperations()) throws(StorageError) {
        try files.makeDirectoryDurably(dataDirectory + "/meta")
        path = dataDirectory + "/meta/producer-ids"
        self.files = files
        reserveBlock = nil
        var start: Int64 = 1000
        if let bytes = try? files.readAll(path), let saved = Int64(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }) {
            start = saved
        }
        state = NIOLockedValueBox(State(next: start, reservedUpTo: start))
    }

    public func nextId() async throws(StorageError) -> Int64 {
        guard let reserveBlock else { return try nextLocalId() }
        while true {
            let id = state.withLockedValue { state -> Int64? in
                guard state.next < state.reservedUpTo else { return nil }
                defer { state.next += 1 }
                return state.next
            }
            if let id { return id }
            let start = try await reserveBlock()
            state.withLockedValue { state in
                // A concurrent caller may have installed a block first: keep it, skip this one.
                guard state.next >= state.reservedUpTo else { return }
                state.next = start
                state.reservedUpTo = start + Self.blockSize
            }
        }
    }

    private func nextLocalId() throws(StorageError) -> Int64 {
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
