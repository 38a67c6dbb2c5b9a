import NIOConcurrencyHelpers

/// Runs `body` in its own task and returns its result, or throws `DeadlinePassed` once
/// `timeout` has passed — without waiting for `body`, which is cancelled and left to end on
/// its own. For database calls that a dropped connection can leave hanging: the caller must
/// treat a passed deadline as "outcome unknown" (the work may still complete).
func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let outcome = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        outcome.withLockedValue { $0 = continuation }
        let work = Task {
            let result = await Result(catching: body)
            outcome.withLockedValue { pending in
                pending?.resume(with: result)
                pending = nil
            }
        }
        Task {
            try? await Task.sleep(for: timeout)
            let expired = outcome.withLockedValue { pending -> Bool in
                guard let waiting = pending else { return false }
                waiting.resume(throwing: DeadlinePassed(timeout: timeout))
                pending = nil
                return true
            }
            if expired { work.cancel() }
        }
    }
}

/// A database call did not finish within its deadline; its outcome is unknown.
struct DeadlinePassed: Error, CustomStringConvertible {
    let timeout: Duration
    var description: String { "no answer from PostgreSQL within \(timeout); the outcome is unknown" }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
