import KafkaProtocol

/// One incremental fetch session (KIP-227): the partitions a client fetches, each with the
/// fetch position and limit it last sent and the high watermark and log start offset it was
/// last told, so a request need only list what changed and a response only what is new.
///
/// Invariant: `positions` maps every entry's key to its index in `entries`; `epoch` is the
/// epoch the next incremental request must carry (1 after creation, then +1, wrapping to 1).
struct FetchSession: Sendable {
    /// A partition by topic id (Fetch v13+) or by topic name (before); the other is empty.
    struct Key: Hashable, Sendable {
        var topic: String
        var topicId: KafkaUUID
        var partition: Int32
    }

    struct Entry: Sendable {
        var key: Key
        var fetchOffset: Int64
        var maxBytes: Int32
        /// As last sent to the client; -1 until sent, and after an error so it is re-sent.
        var highWatermark: Int64 = -1
        var logStartOffset: Int64 = -1
    }

    let id: Int32
    var epoch: Int32
    let usesTopicIds: Bool
    private(set) var entries: [Entry] = []
    private var positions: [Key: Int] = [:]
    var lastUsed: ContinuousClock.Instant

    init(id: Int32, usesTopicIds: Bool, now: ContinuousClock.Instant) {
        self.id = id
        self.epoch = 1
        self.usesTopicIds = usesTopicIds
        self.lastUsed = now
    }

    var isEmpty: Bool { entries.isEmpty }

    static func nextEpoch(after epoch: Int32) -> Int32 { epoch == Int32.max ? 1 : epoch + 1 }

    func key(topic: String, id: KafkaUUID, partition: Int32) -> Key {
        usesTopicIds ? Key(topic: "", topicId: id, partition: partition) : Key(topic: topic, topicId: .zero, partition: partition)
    }

    /// Adds the request's partitions (or updates their position and limit) and drops its
    /// forgotten ones — what an incremental request means.
    mutating func apply(_ request: FetchRequest) {
        var forgotten = Set<Key>()
        for topic in request.forgottenTopicsData {
            for partition in topic.partitions { forgotten.insert(key(topic: topic.topic, id: topic.topicId, partition: partition)) }
        }
        if !forgotten.isEmpty {
            entries.removeAll { forgotten.contains($0.key) }
            reindex()
        }
        for topic in request.topics {
            for partition in topic.partitions {
                let key = key(topic: topic.topic, id: topic.topicId, partition: partition.partition)
                if let index = positions[key] {
                    entries[index].fetchOffset = partition.fetchOffset
                    entries[index].maxBytes = partition.partitionMaxBytes
                } else {
                    positions[key] = entries.count
                    entries.append(Entry(key: key, fetchOffset: partition.fetchOffset, maxBytes: partition.partitionMaxBytes))
                }
            }
        }
    }

    /// The session's partitions as a read plan, consecutive partitions of a topic grouped.
    var plan: FetchPlan {
        var topics: [FetchPlan.Topic] = []
        for entry in entries {
            let partition = FetchPlan.Partition(index: entry.partition, fetchOffset: entry.fetchOffset, maxBytes: entry.maxBytes)
            if let last = topics.last, last.name == entry.key.topic, last.id == entry.key.topicId {
                topics[topics.count - 1].partitions.append(partition)
            } else {
                topics.append(FetchPlan.Topic(name: entry.key.topic, id: entry.key.topicId, partitions: [partition]))
            }
        }
        return FetchPlan(topics: topics)
    }

    /// Records what `response` tells the client. With `dropUnchanged` (an incremental
    /// response) removes every partition the client already knows everything about: no
    /// records, no error, same high watermark and log start offset. Partitions that
    /// returned records move to the end of the session so the others are read first next
    /// time (a response bounded by max bytes then serves every partition in turn).
    mutating func record(_ response: inout FetchResponse, dropUnchanged: Bool) {
        var served: [Key] = []
        for topicIndex in response.responses.indices {
            let topic = response.responses[topicIndex]
            var kept: [FetchResponse.PartitionData] = []
            kept.reserveCapacity(topic.partitions.count)
            for data in topic.partitions {
                let key = key(topic: topic.topic, id: topic.topicId, partition: data.partitionIndex)
                guard let index = positions[key] else {
                    kept.append(data)
                    continue
                }
                let hasRecords = (data.records?.byteCount ?? 0) > 0
                var changed = hasRecords
                if data.errorCode != 0 {
                    changed = true
                    entries[index].highWatermark = -1
                } else {
                    if entries[index].highWatermark != data.highWatermark { changed = true }
                    if entries[index].logStartOffset != data.logStartOffset { changed = true }
                    entries[index].highWatermark = data.highWatermark
                    entries[index].logStartOffset = data.logStartOffset
                }
                if hasRecords { served.append(key) }
                if changed || !dropUnchanged { kept.append(data) }
            }
            response.responses[topicIndex].partitions = kept
        }
        if dropUnchanged { response.responses.removeAll { $0.partitions.isEmpty } }
        if !served.isEmpty && served.count < entries.count {
            let moved = Set(served)
            entries = entries.filter { !moved.contains($0.key) } + entries.filter { moved.contains($0.key) }
            reindex()
        }
    }

    private mutating func reindex() {
        positions = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.key, $0) })
    }
}

extension FetchSession.Entry {
    var partition: Int32 { key.partition }
}
