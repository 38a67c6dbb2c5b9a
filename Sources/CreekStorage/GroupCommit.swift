import Dispatch
import NIOConcurrencyHelpers

/// Group commit for one partition: every `sync` waits for an fsync that starts after
/// it was called; all callers that arrive while one fsync runs share the next one. So
/// N concurrent acks=all producers cost one fsync per round, not N.
public final class GroupCommit: Sendable {
    /// Called once the fsync that covers a caller's bytes finished: nil, or its error.
    public typealias Completion = @Sendable ((any Error)?) -> Void

    private struct State {
        var waiting: [(file: LogFile, done: Completion)] = []
        var running = false
    }

    private let state = NIOLockedValueBox(State())
    private let queue: DispatchQueue

    public init(label: String) {
        queue = DispatchQueue(label: "creek.fsync.\(label)")
    }

    /// Returns once `file`'s data written before this call is on stable storage.
    public func sync(_ file: LogFile) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            sync(file) { error in
                if let error { continuation.resume(throwing: error) } else { continuation.resume() }
            }
        }
    }

    /// Calls `done` (on the fsync thread) once `file`'s data written before this call is on
    /// stable storage: the callback form, for callers that are not tasks (an event loop).
    public func sync(_ file: LogFile, then done: @escaping Completion) {
        let start = state.withLockedValue { state -> Bool in
            state.waiting.append((file, done))
            if state.running { return false }
            state.running = true
            return true
        }
        if start {
            queue.async { self.drain() }
        }
    }

    private func drain() {
        while true {
            let round = state.withLockedValue { state -> [(file: LogFile, done: Completion)] in
                let taken = state.waiting
                state.waiting.removeAll()
                if taken.isEmpty { state.running = false }
                return taken
            }
            if round.isEmpty { return }
            var failures: [ObjectIdentifier: any Error] = [:]
            var synced: Set<ObjectIdentifier> = []
            for entry in round where !synced.contains(ObjectIdentifier(entry.file)) {
                synced.insert(ObjectIdentifier(entry.file))
                do {
                    try entry.file.sync()
                } catch {
                    failures[ObjectIdentifier(entry.file)] = error
                }
            }
            for entry in round {
                entry.done(failures[ObjectIdentifier(entry.file)])
            }
        }
    }
}
