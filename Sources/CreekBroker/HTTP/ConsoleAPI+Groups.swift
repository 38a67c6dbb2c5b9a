import CreekStorage
import Foundation
import KafkaProtocol
import NIOCore

extension ConsoleAPI {
    struct GroupSummary: Encodable {
        var group: String
        var state: String
        var members: Int
        var lagSum: Int64
        var partitions: Int
    }

    func groups() async -> [GroupSummary] {
        await GroupLag.all(broker).map {
            GroupSummary(group: $0.group, state: $0.state, members: $0.members, lagSum: $0.lagSum, partitions: $0.partitions.count)
        }
    }

    struct GroupDetail: Encodable {
        struct Member: Encodable {
            var memberId: String
            var groupInstanceId: String?
            var clientId: String
            var host: String
            /// Topic → partitions, decoded from the consumer protocol assignment (empty for
            /// other protocols).
            var assignment: [String: [Int32]]
        }

        var group: String
        var state: String
        var protocolType: String
        var protocolName: String
        var members: [Member]
        var offsets: [GroupLag.Partition]
        var lagSum: Int64
    }

    func group(_ id: String) async -> GroupDetail? {
        guard let description = await broker.groups.describe(id) else { return nil }
        let lag = await GroupLag.all(broker).first { $0.group == id }
        return GroupDetail(
            group: id, state: description.phase.rawValue, protocolType: description.protocolType, protocolName: description.protocolName,
            members: description.members.map { member in
                GroupDetail.Member(
                    memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId, host: member.clientHost,
                    assignment: description.protocolType == "consumer" ? Self.decodeAssignment(member.assignment) : [:]
                )
            },
            offsets: lag?.partitions ?? [], lagSum: lag?.lagSum ?? 0
        )
    }

    /// A consumer-protocol assignment (version prefix, then the schema's fields).
    static func decodeAssignment(_ bytes: ByteBuffer) -> [String: [Int32]] {
        var bytes = bytes
        guard let version = bytes.readInteger(endianness: .big, as: Int16.self), version >= 0,
              let assignment = try? ConsumerProtocolAssignment(from: &bytes, version: min(version, ConsumerProtocolAssignment.validVersions.upperBound))
        else { return [:] }
        var topics: [String: [Int32]] = [:]
        for topic in assignment.assignedPartitions { topics[topic.topic, default: []] += topic.partitions }
        return topics.mapValues { $0.sorted() }
    }

    // MARK: - Reset offsets (--http-admin)

    struct ResetRequest: Decodable {
        var topic: String
        /// "earliest", "latest" or an offset (as a string or number).
        var to: String
        var partitions: [Int32]?

        enum CodingKeys: String, CodingKey { case topic, to, partitions }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            topic = try container.decode(String.self, forKey: .topic)
            if let number = try? container.decode(Int64.self, forKey: .to) {
                to = String(number)
            } else {
                to = try container.decode(String.self, forKey: .to)
            }
            partitions = try container.decodeIfPresent([Int32].self, forKey: .partitions)
        }
    }

    /// Moves a group's committed offsets, as `kafka-consumer-groups.sh --reset-offsets
    /// --execute` does: refused while the group has members; offsets clamped to the log.
    func resetOffsets(group: String, _ body: ByteBuffer) async -> HTTPReply {
        guard let wanted = try? JSONDecoder().decode(ResetRequest.self, from: Data(body.readableBytesView)) else {
            return .error(.badRequest, #"expected {"topic": "…", "to": "earliest"|"latest"|OFFSET, "partitions": [optional]}"#)
        }
        if let description = await broker.groups.describe(group), !description.members.isEmpty {
            return .error(.conflict, "NON_EMPTY_GROUP: the group has \(description.members.count) active members; stop them first")
        }
        guard let topic = broker.topics.topic(named: wanted.topic) else { return unknownTopic(wanted.topic) }
        let indexes = wanted.partitions ?? (0..<Int32(topic.partitions.count)).map { $0 }
        var entries: [(topic: String, partition: Int32, value: CommittedOffset)] = []
        for index in indexes {
            guard let log = topic.partition(index) else { return .error(.badRequest, "no partition \(index) in \(wanted.topic)") }
            let start = await log.logStartOffset
            let end = await log.highWatermark
            let target: Int64
            switch wanted.to {
            case "earliest": target = start
            case "latest": target = end
            default:
                guard let offset = Int64(wanted.to) else { return .error(.badRequest, "to must be earliest, latest or an offset") }
                target = min(max(offset, start), end)
            }
            entries.append((wanted.topic, index, CommittedOffset(offset: target, leaderEpoch: -1, metadata: nil, commitTimestampMs: broker.clock())))
        }
        do {
            try broker.groups.offsets.commit(group: group, entries)
        } catch {
            return .error(.internalServerError, "KAFKA_STORAGE_ERROR: \(error)")
        }
        broker.logger.info("reset group offsets (console)", metadata: ["group": "\(group)", "topic": "\(wanted.topic)", "to": "\(wanted.to)"])
        return .json(entries.map { ["partition": Int64($0.partition), "offset": $0.value.offset] })
    }
}
