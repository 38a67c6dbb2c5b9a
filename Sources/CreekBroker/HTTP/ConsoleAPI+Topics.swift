import CreekStorage
import Foundation
import KafkaCompression
import KafkaProtocol
import NIOCore

extension ConsoleAPI {
    struct TopicSummary: Encodable {
        var name: String
        var isInternal: Bool
        var partitions: Int
        var sizeBytes: Int64
        var records: Int64
        var retentionMs: Int64
        var retentionBytes: Int64
        var cleanupPolicy: String
        var recordsInPerSecond: Double?
        var recordsOutPerSecond: Double?
    }

    func topics() async -> [TopicSummary] {
        var summaries: [TopicSummary] = []
        for topic in broker.topics.allTopics().sorted(by: { $0.name < $1.name }) {
            var size: Int64 = 0
            var records: Int64 = 0
            for partition in topic.partitions {
                size += Int64(await partition.sizeInBytes)
                records += await partition.highWatermark - partition.logStartOffset
            }
            let rates = history.rates(of: topic.name)
            let config = topic.logConfig
            summaries.append(TopicSummary(
                name: topic.name, isInternal: topic.isInternal, partitions: topic.partitions.count, sizeBytes: size, records: records,
                retentionMs: config.retentionMs, retentionBytes: config.retentionBytes,
                cleanupPolicy: Self.policyName(config.cleanupPolicy), recordsInPerSecond: rates?.recordsIn, recordsOutPerSecond: rates?.recordsOut
            ))
        }
        return summaries
    }

    static func policyName(_ policy: LogConfig.CleanupPolicy) -> String {
        [policy.contains(.delete) ? "delete" : nil, policy.contains(.compact) ? "compact" : nil].compactMap { $0 }.joined(separator: ",")
    }

    struct TopicDetail: Encodable {
        struct Partition: Encodable {
            var partition: Int
            var logStartOffset: Int64
            var highWatermark: Int64
            var lastStableOffset: Int64
            var sizeBytes: Int
            var segments: Int
            var offline: Bool
        }

        struct Setting: Encodable {
            var name: String
            var value: String
            var isDefault: Bool
        }

        var name: String
        var id: String
        var partitions: [Partition]
        var configs: [Setting]
        var totals: BrokerMetrics.TopicTotals
    }

    func topic(named name: String) async -> TopicDetail? {
        guard let topic = broker.topics.topic(named: name) else { return nil }
        var partitions: [TopicDetail.Partition] = []
        for (index, log) in topic.partitions.enumerated() {
            partitions.append(TopicDetail.Partition(
                partition: index, logStartOffset: await log.logStartOffset, highWatermark: await log.highWatermark,
                lastStableOffset: await log.lastStableOffset, sizeBytes: await log.sizeInBytes, segments: await log.segmentCount,
                offline: await log.isOffline
            ))
        }
        let defaults = TopicConfigs.defaults(broker.config)
        let configs = TopicConfigs.names.map { name, _ in
            TopicDetail.Setting(name: name, value: topic.overrides[name] ?? defaults[name] ?? "", isDefault: topic.overrides[name] == nil)
        }
        return TopicDetail(
            name: topic.name, id: "\(topic.id)", partitions: partitions, configs: configs,
            totals: broker.metrics.totals()[topic.name] ?? .init()
        )
    }

    // MARK: - Changes (--http-admin)

    struct NewTopic: Decodable {
        var name: String
        var partitions: Int32?
        var configs: [String: String]?
    }

    func createTopic(_ body: ByteBuffer) async -> HTTPReply {
        guard let wanted = try? JSONDecoder().decode(NewTopic.self, from: Data(body.readableBytesView)) else {
            return .error(.badRequest, #"expected {"name": "…", "partitions": N, "configs": {…}}"#)
        }
        do {
            try await broker.topics.create(name: wanted.name, partitions: wanted.partitions ?? -1, configs: wanted.configs ?? [:])
            broker.logger.info("created topic (console)", metadata: ["topic": "\(wanted.name)"])
            return .json(["created": wanted.name], status: .created)
        } catch {
            return .error(error.code == .topicAlreadyExists ? .conflict : .badRequest, "\(error.code.name): \(error.message)")
        }
    }

    func deleteTopic(_ name: String) async -> HTTPReply {
        guard broker.config.deleteTopicEnable else { return .error(.forbidden, "delete.topic.enable is false") }
        do {
            try await broker.topics.delete(name: name)
            broker.metrics.forget(topic: name)
            broker.logger.info("deleted topic (console)", metadata: ["topic": "\(name)"])
            return .json(["deleted": name])
        } catch {
            return .error(error.code == .unknownTopicOrPartition ? .notFound : .badRequest, "\(error.code.name): \(error.message)")
        }
    }
}
