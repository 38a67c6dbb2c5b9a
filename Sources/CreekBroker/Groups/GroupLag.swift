import CreekStorage

/// One consumer group's committed offsets against the partitions' high watermarks, as the
/// metrics and the console report them. Lag is never negative; a committed offset for a
/// partition that no longer exists has no lag.
struct GroupLag: Sendable, Encodable {
    struct Partition: Sendable, Encodable {
        var topic: String
        var partition: Int32
        var committed: Int64
        var highWatermark: Int64?
        var lag: Int64?
    }

    var group: String
    var state: String
    var members: Int
    var partitions: [Partition]
    var lagSum: Int64 { partitions.reduce(0) { $0 + ($1.lag ?? 0) } }

    /// Every group the coordinator knows (with members or committed offsets).
    static func all(_ broker: Broker) async -> [GroupLag] {
        var highWatermarks: [String: [Int64]] = [:]
        for topic in broker.topics.allTopics() {
            var marks: [Int64] = []
            for partition in topic.partitions { marks.append(await partition.highWatermark) }
            highWatermarks[topic.name] = marks
        }
        return await broker.groups.allGroups().map { group in
            var partitions: [Partition] = []
            for (topic, committed) in broker.groups.offsets.offsets(group: group.groupId) {
                for (index, offset) in committed {
                    let marks = highWatermarks[topic]
                    let high = marks.flatMap { index >= 0 && Int(index) < $0.count ? $0[Int(index)] : nil }
                    partitions.append(Partition(
                        topic: topic, partition: index, committed: offset.offset, highWatermark: high, lag: high.map { max(0, $0 - offset.offset) }
                    ))
                }
            }
            partitions.sort { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
            return GroupLag(group: group.groupId, state: group.phase.rawValue, members: group.members.count, partitions: partitions)
        }
    }
}
