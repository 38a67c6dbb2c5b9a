import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The operator's way out of a graceful shutdown that takes too long: the first SIGTERM or
/// SIGINT starts it (ServiceLifecycle), a second one exits at once, without the
/// clean-shutdown marker (so the next start recovers).
enum SecondSignal {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func install() {
        let queue = DispatchQueue(label: "creek.signals")
        let count = Counter()
        for signalNumber in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler {
                if count.increment() >= 2 {
                    StandardError.emit("creek: second signal, exiting now without a clean shutdown\n")
                    _exit(130)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Touched only on the signal queue.
    private final class Counter: @unchecked Sendable {
        private var value = 0
        func increment() -> Int {
            value += 1
            return value
        }
    }
}
