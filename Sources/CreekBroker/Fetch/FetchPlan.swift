import KafkaProtocol

/// The partitions one Fetch reads, grouped by topic in response order: the request's own
/// list for a sessionless or full fetch, the session's cached list for an incremental one.
/// A topic is named by `name` before Fetch v13 and by `id` from v13 on; the other is empty.
struct FetchPlan: Sendable {
    struct Topic: Sendable {
        var name: String
        var id: KafkaUUID
        var partitions: [Partition]
    }

    struct Partition: Sendable {
        var index: Int32
        var fetchOffset: Int64
        var maxBytes: Int32
    }

    var topics: [Topic]

    init(topics: [Topic]) {
        self.topics = topics
    }

    /// Exactly what the request lists.
    init(request: FetchRequest) {
        topics = request.topics.map { topic in
            Topic(name: topic.topic, id: topic.topicId, partitions: topic.partitions.map {
                Partition(index: $0.partition, fetchOffset: $0.fetchOffset, maxBytes: $0.partitionMaxBytes)
            })
        }
    }
}
