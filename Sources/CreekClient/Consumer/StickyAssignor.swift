/// What a member told the leader in its JoinGroup metadata: its topics and, for the
/// cooperative protocol, the partitions it owns now and the generation it owned them in.
public struct MemberSubscription: Sendable, Hashable {
    public var topics: [String]
    public var owned: [TopicPartition]
    public var generation: Int32

    public init(topics: [String], owned: [TopicPartition] = [], generation: Int32 = -1) {
        self.topics = topics
        self.owned = owned
        self.generation = generation
    }
}

/// The cooperative-sticky assignor (KIP-429): a balanced assignment that keeps every
/// partition where it is when it can, from which a partition that changes owner is then
/// withheld for one round — its owner revokes it and rejoins, and the next rebalance hands
/// it over. Deterministic (members and partitions sorted).
enum StickyAssignment {
    static func assign(_ members: [String: MemberSubscription], partitionCounts: [String: Int]) -> [String: [TopicPartition]] {
        let names = members.keys.sorted()
        var result = Dictionary(uniqueKeysWithValues: names.map { ($0, [TopicPartition]()) })
        guard !names.isEmpty else { return result }
        let topics = Set(members.values.flatMap(\.topics)).sorted()
        let partitions = topics.flatMap { topic in (0..<(partitionCounts[topic] ?? 0)).map { TopicPartition(topic, Int32($0)) } }
        let existing = Set(partitions)

        // Current owners; a partition two members claim stays with the newer generation.
        var owner: [TopicPartition: String] = [:]
        for name in names {
            guard let member = members[name] else { continue }
            for partition in member.owned where existing.contains(partition) && member.topics.contains(partition.topic) {
                if let other = owner[partition], (members[other]?.generation ?? -1) >= member.generation { continue }
                owner[partition] = name
            }
        }

        // Quotas: `base` each, one more for the first `extra` members (those owning most).
        let base = partitions.count / names.count
        var extra = partitions.count % names.count
        let byOwned = names.sorted { lhs, rhs in
            let (left, right) = (owner.values.filter { $0 == lhs }.count, owner.values.filter { $0 == rhs }.count)
            return left != right ? left > right : lhs < rhs
        }
        var quota: [String: Int] = [:]
        for name in byOwned {
            quota[name] = base + (extra > 0 ? 1 : 0)
            if extra > 0 { extra -= 1 }
        }

        // Keep what each owns, up to its quota; the rest is free.
        var free: [TopicPartition] = []
        for partition in partitions {
            if let name = owner[partition], result[name, default: []].count < quota[name, default: 0] {
                result[name, default: []].append(partition)
            } else {
                free.append(partition)
            }
        }
        // Free partitions to the subscribed member with the fewest (under quota first).
        for partition in free {
            let eligible = names.filter { members[$0]?.topics.contains(partition.topic) == true }
            let chosen = eligible.min { lhs, rhs in
                let (left, right) = (result[lhs, default: []].count, result[rhs, default: []].count)
                let (leftFull, rightFull) = (left >= quota[lhs, default: 0], right >= quota[rhs, default: 0])
                if leftFull != rightFull { return !leftFull }
                return left != right ? left < right : lhs < rhs
            }
            if let chosen { result[chosen, default: []].append(partition) }
        }

        // Cooperative: a partition moving to a new owner is withheld while the old one holds it.
        for name in names {
            result[name] = result[name, default: []].filter { partition in owner[partition].map { $0 == name } ?? true }
        }
        return result
    }
}
