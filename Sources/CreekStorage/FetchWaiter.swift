import NIOConcurrencyHelpers

/// A long-poll Fetch waiting for new data on any of its partitions. Partitions call
/// `fire()` after an append; the fetch resumes at the first fire or at its deadline.
/// Firing is idempotent and safe from any thread.
public final class FetchWaiter: Sendable {
    private struct State {
        var fired = false
        var continuation: CheckedContinuation<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    public var isDone: Bool { state.withLockedValue { $0.fired } }

    public func fire() {
        let continuation = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.fired = true
            let pending = state.continuation
            state.continuation = nil
            return pending
        }
        continuation?.resume()
    }

    /// Waits until fired or until `timeout` passes.
    public func wait(timeout: Duration) async {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.fire()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLockedValue { state -> Bool in
                if state.fired { return true }
                state.continuation = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        timer.cancel()
    }
}
