import KafkaProtocol

/// Metadata (key 3), v0-12. Alone, this broker leads every partition; in a cluster over
/// PostgreSQL the live brokers are listed and each partition names its leader
/// (`Broker+Cluster`). The leader epoch reported is 0.
/// A null topic list (or an empty one in v0) means all topics. Unknown topics are created
/// with `num.partitions` when `auto.create.topics.enable` and the request allow it (v4+
/// carries the flag); v10+ may name topics by id. Authorized-operation bitfields report
/// every operation allowed (there are no ACLs yet).
struct MetadataHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...12
    let broker: Broker

    /// Every operation a topic can have (READ..ALTER_CONFIGS), as Kafka's bitfield.
    static let allTopicOperations: Int32 = [3, 4, 5, 6, 7, 8, 10, 11].reduce(0) { $0 | (1 << $1) }
    static let allGroupOperations: Int32 = [3, 6, 8].reduce(0) { $0 | (1 << $1) }
    static let allClusterOperations: Int32 = [4, 7, 8, 9, 10, 11, 12].reduce(0) { $0 | (1 << $1) }

    func handle(_ request: MetadataRequest, context: RequestContext) async -> MetadataResponse? {
        // In a cluster: topics just created or deleted through another broker are seen here at once.
        await broker.topics.refreshFromStore()
        let nodes = broker.clusterNodes(for: context.listener)
        var response = MetadataResponse(
            brokers: nodes.map { .init(nodeId: $0.id, host: $0.host, port: $0.port, rack: nil) },
            clusterId: broker.topics.clusterId,
            controllerId: broker.controllerId(for: context.listener)
        )
        if request.includeClusterAuthorizedOperations { response.clusterAuthorizedOperations = Self.allClusterOperations }
        let all = request.topics == nil || (context.apiVersion == 0 && request.topics?.isEmpty == true)
        if all {
            // Topics the principal may not describe are left out, as if they did not exist.
            response.topics = broker.topics.allTopics().filter { broker.authorized(context, .describe, .topic, $0.name) }.map {
                describe($0, request: request)
            }
            return response
        }
        let autoCreate = broker.config.autoCreateTopicsEnable && (context.apiVersion < 4 || request.allowAutoTopicCreation)
        for wanted in request.topics ?? [] {
            if wanted.name == nil, wanted.topicId != .zero {
                if let topic = broker.topics.topic(id: wanted.topicId), broker.authorized(context, .describe, .topic, topic.name) {
                    response.topics.append(describe(topic, request: request))
                } else {
                    response.topics.append(.init(errorCode: KafkaErrorCode.unknownTopicId.rawValue, name: nil, topicId: wanted.topicId))
                }
                continue
            }
            let name = wanted.name ?? ""
            guard broker.authorized(context, .describe, .topic, name) else {
                broker.logDenied(context, .describe, .topic, name)
                response.topics.append(.init(errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, name: name))
                continue
            }
            if let topic = broker.topics.topic(named: name) {
                response.topics.append(describe(topic, request: request))
                continue
            }
            guard autoCreate else {
                response.topics.append(.init(errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue, name: name))
                continue
            }
            guard broker.authorizedOnCluster(context, .create) || broker.authorized(context, .create, .topic, name) else {
                broker.logDenied(context, .create, .topic, name)
                response.topics.append(.init(errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, name: name))
                continue
            }
            do {
                let topic = try await broker.topics.create(name: name, partitions: -1)
                broker.logger.info("auto-created topic", metadata: ["topic": "\(name)", "partitions": "\(topic.partitions.count)"])
                response.topics.append(describe(topic, request: request))
            } catch TopicError.alreadyExists {
                if let topic = broker.topics.topic(named: name) { response.topics.append(describe(topic, request: request)) }
            } catch {
                response.topics.append(.init(errorCode: error.code.rawValue, name: name))
            }
        }
        return response
    }

    private func describe(_ topic: Topic, request: MetadataRequest) -> MetadataResponse.MetadataResponseTopic {
        let partitions = topic.partitions.indices.map { index in
            let leader = broker.leader(of: topic, partition: Int32(index))
            return MetadataResponse.MetadataResponsePartition(
                errorCode: 0, partitionIndex: Int32(index), leaderId: leader, leaderEpoch: 0,
                replicaNodes: [leader], isrNodes: [leader], offlineReplicas: []
            )
        }
        return MetadataResponse.MetadataResponseTopic(
            errorCode: 0, name: topic.name, topicId: topic.id, isInternal: topic.isInternal, partitions: partitions,
            topicAuthorizedOperations: request.includeTopicAuthorizedOperations ? Self.allTopicOperations : Int32.min
        )
    }
}
