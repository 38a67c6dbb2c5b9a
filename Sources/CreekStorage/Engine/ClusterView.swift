/// A broker as the cluster knows it: its node id and, per listener name, the address it
/// advertises.
public struct ClusterNode: Hashable, Sendable, Codable {
    public var id: Int32
    public var listeners: [String: String]

    public init(id: Int32, listeners: [String: String]) {
        self.id = id
        self.listeners = listeners
    }

    /// The advertised `host:port` for `listener` (the first one when it has no such listener).
    public func address(for listener: String) -> (host: String, port: Int32)? {
        guard let text = listeners[listener] ?? listeners.sorted(by: { $0.key < $1.key }).first?.value,
              let colon = text.lastIndex(of: ":"), let port = Int32(text[text.index(after: colon)...]) else { return nil }
        return (String(text[..<colon]), port)
    }
}

/// Which brokers are alive and who leads what, for engines shared by several brokers.
/// Invariant: every broker computing `leader` or `coordinator` from the same live set gets
/// the same answer (a pure function of the sorted node ids); the storage engine fences a
/// leader that acts on an older view (leader epochs), so views only need to converge.
public protocol ClusterView: Sendable {
    var localNodeId: Int32 { get }
    /// Brokers whose lease has not expired, by node id.
    func liveNodes() -> [ClusterNode]
    /// True while this broker's own lease is valid by its local clock.
    var holdsLease: Bool { get }
    /// Changes whenever this broker sees the live set change or finds that its own lease
    /// lapsed and was regained (it was paused: the others may have moved its partitions and
    /// groups away and back meanwhile). State kept for what it leads or coordinates from an
    /// older generation must be reloaded before it is trusted.
    var generation: Int { get }
    /// How long each live broker's lease had left when this broker last looked (for operators).
    func leaseRemaining() -> [Int32: Duration]
}

extension ClusterView {
    /// The node that leads `partition` of the topic with id `topicId`: the partitions of a
    /// topic go round the live brokers from a start picked by the topic id.
    public func leader(topicId: String, partition: Int32) -> Int32 {
        let ids = liveNodes().map(\.id).sorted()
        guard !ids.isEmpty else { return localNodeId }
        let start = Int(Self.hash(topicId) % UInt64(ids.count))
        return ids[(start + Int(partition)) % ids.count]
    }

    /// The node that coordinates a group or transactional id.
    public func coordinator(key: String) -> Int32 {
        let ids = liveNodes().map(\.id).sorted()
        guard !ids.isEmpty else { return localNodeId }
        return ids[Int(Self.hash(key) % UInt64(ids.count))]
    }

    public func isLocalLeader(topicId: String, partition: Int32) -> Bool {
        holdsLease && leader(topicId: topicId, partition: partition) == localNodeId
    }

    /// Whether this broker coordinates `key` now (and holds its lease).
    public func isLocalCoordinator(key: String) -> Bool {
        holdsLease && coordinator(key: key) == localNodeId
    }

    /// FNV-1a: stable across processes and versions (Swift's `Hasher` is seeded per process).
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        return value
    }
}
