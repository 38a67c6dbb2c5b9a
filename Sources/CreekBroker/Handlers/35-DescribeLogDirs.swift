import CreekStorage
import KafkaProtocol

/// DescribeLogDirs (key 35), v0–v4: Creek's one log directory (the data directory) with the
/// size on disk of each hosted partition, and from v4 the volume's total and usable bytes.
/// A null topic list means every topic; a named topic or partition Creek does not host is
/// left out, as Kafka does. Offset lag is always 0 (there are no future logs).
struct DescribeLogDirsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...4
    let broker: Broker

    func handle(_ request: DescribeLogDirsRequest, context: RequestContext) async -> DescribeLogDirsResponse? {
        guard broker.authorizedOnCluster(context, .describe) else {
            broker.logDenied(context, .describe, .cluster, AclResourceType.clusterName)
            return DescribeLogDirsResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, results: [])
        }
        var topics: [DescribeLogDirsResponse.DescribeLogDirsTopic] = []
        for (topic, indexes) in selection(request.topics) {
            var partitions: [DescribeLogDirsResponse.DescribeLogDirsPartition] = []
            for index in indexes {
                guard let log = topic.partition(index) else { continue }
                let size = await log.sizeInBytes
                partitions.append(.init(partitionIndex: index, partitionSize: Int64(size), offsetLag: 0, isFutureKey: false))
            }
            topics.append(.init(name: topic.name, partitions: partitions))
        }
        let directory = broker.config.dataDirectory
        let space = VolumeSpace.of(path: directory)
        let result = DescribeLogDirsResponse.DescribeLogDirsResult(
            errorCode: space == nil ? KafkaErrorCode.kafkaStorageError.rawValue : 0,
            logDir: VolumeSpace.absolutePath(directory), topics: topics,
            totalBytes: space?.total ?? -1, usableBytes: space?.usable ?? -1
        )
        return DescribeLogDirsResponse(throttleTimeMs: 0, errorCode: 0, results: [result])
    }

    /// The hosted topics asked for, each with the partition indexes asked for (all of them
    /// for a null topic list), sorted by name.
    private func selection(_ wanted: [DescribeLogDirsRequest.DescribableLogDirTopic]?) -> [(Topic, [Int32])] {
        guard let wanted else {
            return broker.topics.allTopics().sorted { $0.name < $1.name }.map { topic in
                (topic, Array(0..<Int32(topic.partitions.count)))
            }
        }
        return wanted.compactMap { entry in
            broker.topics.topic(named: entry.topic).map { ($0, entry.partitions) }
        }
    }
}
