import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The open client connections: admits a new one only within `max.connections` and
/// `max.connections.per.ip` (a refused connection is closed at once and logged), and
/// closes them all at shutdown. Thread-safe.
///
/// Invariant: `perAddress[ip]` equals the number of admitted, still-open channels from `ip`.
final class ConnectionRegistry: Sendable {
    private struct State {
        var open: [ObjectIdentifier: (channel: any Channel, address: String)] = [:]
        var perAddress: [String: Int] = [:]
    }

    private let state = NIOLockedValueBox(State())
    private let maxTotal: Int
    private let maxPerAddress: Int
    private let logger: Logger

    init(maxTotal: Int, maxPerAddress: Int, logger: Logger) {
        self.maxTotal = maxTotal
        self.maxPerAddress = maxPerAddress
        self.logger = logger
    }

    /// Admits `channel`, or returns why not. An admitted channel leaves the registry when
    /// it closes.
    func admit(_ channel: any Channel) -> String? {
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        let id = ObjectIdentifier(channel)
        let refusal: String? = state.withLockedValue { state in
            if state.open.count >= maxTotal { return "max.connections (\(maxTotal)) reached" }
            if state.perAddress[address, default: 0] >= maxPerAddress {
                return "max.connections.per.ip (\(maxPerAddress)) reached for \(address)"
            }
            state.open[id] = (channel, address)
            state.perAddress[address, default: 0] += 1
            return nil
        }
        if let refusal {
            logger.warning("refusing connection", metadata: ["peer": "\(address)", "reason": "\(refusal)"])
            return refusal
        }
        channel.closeFuture.whenComplete { _ in
            self.state.withLockedValue { state in
                guard state.open.removeValue(forKey: id) != nil else { return }
                state.perAddress[address, default: 1] -= 1
                if state.perAddress[address] == 0 { state.perAddress[address] = nil }
            }
        }
        return nil
    }

    /// Closes every open connection (graceful shutdown, after requests drained).
    func closeAll() async {
        let channels = state.withLockedValue { $0.open.values.map(\.channel) }
        for channel in channels { try? await channel.close() }
    }
}
