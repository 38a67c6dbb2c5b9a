/// The classic protocol's client-side assignors: the group leader computes every member's
/// partitions from the members' subscriptions. Deterministic (members and partitions are
/// sorted), so every implementation of the same assignor agrees.
public enum Assignor: String, Sendable, CaseIterable {
    /// Per topic, consecutive ranges; the first members get one extra when it does not divide.
    case range
    /// All subscribed partitions dealt in turn to the members subscribed to each topic.
    case roundRobin = "roundrobin"
    /// Balanced and sticky, rebalanced incrementally (KIP-429): members keep consuming the
    /// partitions they keep; only moving partitions are revoked (see `StickyAssignment`).
    case cooperativeSticky = "cooperative-sticky"

    /// Whether members following this assignor keep their partitions through a rebalance
    /// (the cooperative protocol) rather than revoking all of them first (eager).
    public var isCooperative: Bool { self == .cooperativeSticky }

    /// Every member's partitions, from what the members sent in their JoinGroup.
    public func assign(_ members: [String: MemberSubscription], partitionCounts: [String: Int]) -> [String: [TopicPartition]] {
        if self == .cooperativeSticky { return StickyAssignment.assign(members, partitionCounts: partitionCounts) }
        return assign(members.mapValues(\.topics), partitionCounts: partitionCounts)
    }

    /// `subscriptions`: member id → topics; `partitionCounts`: topic → partition count.
    public func assign(_ subscriptions: [String: [String]], partitionCounts: [String: Int]) -> [String: [TopicPartition]] {
        var result: [String: [TopicPartition]] = [:]
        for member in subscriptions.keys { result[member] = [] }
        switch self {
        case .range:
            let topics = Set(subscriptions.values.flatMap { $0 }).sorted()
            for topic in topics {
                let members = subscriptions.filter { $0.value.contains(topic) }.map(\.key).sorted()
                let count = partitionCounts[topic] ?? 0
                guard !members.isEmpty, count > 0 else { continue }
                let each = count / members.count
                let extra = count % members.count
                var next = 0
                for (index, member) in members.enumerated() {
                    let take = each + (index < extra ? 1 : 0)
                    for partition in next..<next + take { result[member, default: []].append(TopicPartition(topic, Int32(partition))) }
                    next += take
                }
            }
        case .cooperativeSticky:
            return StickyAssignment.assign(subscriptions.mapValues { MemberSubscription(topics: $0) }, partitionCounts: partitionCounts)
        case .roundRobin:
            let members = subscriptions.keys.sorted()
            let topics = Set(subscriptions.values.flatMap { $0 }).sorted()
            var turn = 0
            for topic in topics {
                for partition in 0..<(partitionCounts[topic] ?? 0) {
                    // The next member (in turn) subscribed to this topic.
                    for _ in 0..<members.count {
                        let member = members[turn % members.count]
                        turn += 1
                        if subscriptions[member]?.contains(topic) == true {
                            result[member, default: []].append(TopicPartition(topic, Int32(partition)))
                            break
                        }
                    }
                }
            }
        }
        return result
    }
}
