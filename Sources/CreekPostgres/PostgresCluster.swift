public import CreekStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// This broker's membership in a cluster sharing one PostgreSQL database: a row in
/// `creek_brokers` with a lease, renewed every third of `leaseMs`; the live brokers are the
/// rows whose lease has not expired (by the database's clock). A broker holds its lease, by
/// its own monotonic clock, until `leaseMs` after the last renewal it sent succeeded — so a
/// paused broker knows on waking that it lost it, before the others' view can disagree.
/// Invariant: at most one live process registers a node id.
public final class PostgresCluster: ClusterView {
    public let localNodeId: Int32
    let instance: String
    let listeners: [String: String]
    let leaseMs: Int64
    let client: PostgresClient
    let logger: Logger
    private struct State {
        var live: [ClusterNode] = []
        /// Each live broker's lease expiry, as read at `refreshed`.
        var leases: [Int32: Int64] = [:]
        var refreshed = ContinuousClock.now
        var validUntil: ContinuousClock.Instant?
        var generation = 0
        var term = 1
        var renewals: Task<Void, Never>?
        var onChange: [@Sendable () -> Void] = []
    }
    private let state = NIOLockedValueBox(State())

    init(client: PostgresClient, logger: Logger, node: ClusterNode, leaseMs: Int64) {
        self.client = client
        self.logger = logger
        localNodeId = node.id
        listeners = node.listeners
        self.leaseMs = leaseMs
        instance = UUID().uuidString
    }

    public func liveNodes() -> [ClusterNode] { state.withLockedValue { $0.live } }

    public func leaseRemaining() -> [Int32: Duration] {
        state.withLockedValue { state in
            let since = ContinuousClock.now - state.refreshed
            return state.leases.mapValues { .milliseconds($0) - since }
        }
    }

    public var generation: Int { state.withLockedValue { $0.generation } }

    /// How many times this broker has held its lease: one more each time it finds it lapsed
    /// and regains it (everything it coordinated may have been coordinated elsewhere).
    public var term: Int { state.withLockedValue { $0.term } }

    public var holdsLease: Bool {
        state.withLockedValue { state in state.validUntil.map { ContinuousClock.now < $0 } ?? false }
    }

    /// Calls `body` after every renewal (the live set or the catalog may have changed).
    public func onRenewal(_ body: @escaping @Sendable () -> Void) {
        state.withLockedValue { $0.onChange.append(body) }
    }

    /// Registers this broker (refused while another live broker has its node id), then
    /// renews the lease in the background until `leave()`.
    func join() async throws(StorageError) {
        let encoded = String(decoding: (try? JSONEncoder().encode(listeners)) ?? Data("{}".utf8), as: UTF8.self)
        let (id, lease, logger) = (localNodeId, leaseMs, logger)
        do {
            // A node id whose lease is still live (this node, killed and restarted at once)
            // is taken once the lease expires: the wait is at most one lease.
            let deadline = ContinuousClock.now + .milliseconds(lease) + .seconds(1)
            var waited = false
            while try await !register(encoded: encoded) {
                guard ContinuousClock.now < deadline else {
                    throw StorageError.database("node id \(id) is registered by another live broker; pick another --node-id")
                }
                if !waited { logger.notice("node id is held by a live lease; waiting for it to expire", metadata: ["node": "\(id)"]) }
                waited = true
                try await Task.sleep(for: .milliseconds(250))
            }
            try await refreshLive()
        } catch {
            throw PostgresEngine.storageError(error)
        }
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(max(100, lease / 3)))
                guard let self else { return }
                await self.renew()
            }
        }
        state.withLockedValue { $0.renewals = task }
    }

    /// One attempt to register; false while another instance holds the node id's lease.
    private func register(encoded: String) async throws -> Bool {
        let (id, instance, lease, logger) = (localNodeId, self.instance, leaseMs, self.logger)
        let sent = ContinuousClock.now
        var registered = false
        for try await _ in try await client.query("""
                INSERT INTO creek_brokers (node_id, instance, listeners, lease_until)
                VALUES (\(id), \(instance), \(encoded), now() + \(lease) * interval '1 millisecond')
                ON CONFLICT (node_id) DO UPDATE SET instance = excluded.instance, listeners = excluded.listeners,
                    lease_until = excluded.lease_until, started_at = now()
                WHERE creek_brokers.lease_until < now() OR creek_brokers.instance = excluded.instance
                RETURNING node_id
                """, logger: logger).decode(Int32.self) {
            registered = true
        }
        if registered { state.withLockedValue { $0.validUntil = sent + .milliseconds(lease) } }
        return registered
    }

    private func renew() async {
        let (id, instance, lease, logger) = (localNodeId, self.instance, leaseMs, logger)
        let sent = ContinuousClock.now
        let lapsed = state.withLockedValue { $0.validUntil.map { sent >= $0 } ?? true }
        do {
            try await withDeadline(.milliseconds(lease)) { [client] in
                for try await _ in try await client.query("""
                    UPDATE creek_brokers SET lease_until = now() + \(lease) * interval '1 millisecond'
                    WHERE node_id = \(id) AND instance = \(instance) RETURNING node_id
                    """, logger: logger).decode(Int32.self) {
                    return
                }
                throw StorageError.database("the lease row was taken by another broker with node id \(id)")
            }
            state.withLockedValue { state in
                state.validUntil = sent + .milliseconds(lease)
                if lapsed {
                    state.generation += 1
                    state.term += 1
                }
            }
            if lapsed { logger.warning("the cluster lease had lapsed (was this broker paused?); regained it", metadata: ["node": "\(id)"]) }
            try await refreshLive()
        } catch {
            logger.warning("could not renew the cluster lease", metadata: ["error": "\(PostgresEngine.storageError(error))"])
        }
        for body in state.withLockedValue({ $0.onChange }) { body() }
    }

    private func refreshLive() async throws {
        let (client, logger) = (client, logger)
        let read = ContinuousClock.now
        let (nodes, leases) = try await withDeadline(.milliseconds(leaseMs)) {
            var nodes: [ClusterNode] = []
            var leases: [Int32: Int64] = [:]
            let decoder = JSONDecoder()
            for try await (id, listeners, remaining) in try await client.query("""
                SELECT node_id, listeners, (extract(epoch FROM lease_until - now()) * 1000)::bigint
                FROM creek_brokers WHERE lease_until > now() ORDER BY node_id
                """, logger: logger).decode((Int32, String, Int64).self) {
                let map = (try? decoder.decode([String: String].self, from: Data(listeners.utf8))) ?? [:]
                nodes.append(ClusterNode(id: id, listeners: map))
                leases[id] = remaining
            }
            return (nodes, leases)
        }
        state.withLockedValue { state in
            state.leases = leases
            state.refreshed = read
        }
        let changed = state.withLockedValue { state -> Bool in
            guard state.live != nodes else { return false }
            state.live = nodes
            state.generation += 1
            return true
        }
        if changed {
            logger.info("cluster membership", metadata: ["live": "\(nodes.map(\.id))"])
        }
    }

    /// Stops renewing and deletes this broker's row, so the others take over at once.
    public func leave() async {
        let renewals = state.withLockedValue { state -> Task<Void, Never>? in
            defer { state.renewals = nil; state.validUntil = nil }
            return state.renewals
        }
        renewals?.cancel()
        let (id, instance, logger) = (localNodeId, self.instance, logger)
        _ = try? await withDeadline(.seconds(5)) { [client] in
            try await client.query("DELETE FROM creek_brokers WHERE node_id = \(id) AND instance = \(instance)", logger: logger)
        }
    }
}
