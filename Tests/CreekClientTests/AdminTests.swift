import CreekBroker
@testable import CreekClient
import KafkaProtocol
import Testing

@Suite("Swift admin client against an embedded broker")
struct AdminTests {
    @Test("topics: create with configs, list, describe, add partitions, delete; errors name the Kafka code")
    func topics() async throws {
        try await withEmbeddedBroker { broker in
            let admin = KafkaAdmin(config: ClientConfig(bootstrapServers: [broker.bootstrap]))
            try await admin.createTopics([
                NewTopic(name: "events", partitions: 3, configs: ["retention.ms": "3600000", "cleanup.policy": "compact"]),
                NewTopic(name: "audit", partitions: 1),
            ])
            #expect(try await admin.listTopics() == ["audit", "events"])
            let described = try await admin.describeTopics(["events"])
            #expect(described["events"]?.partitionCount == 3)
            #expect(described["events"]?.leaders.values.allSatisfy { $0 >= 0 } == true)

            await #expect(throws: KafkaClientError.self) { try await admin.createTopics([NewTopic(name: "events", partitions: 1)]) }
            do {
                try await admin.createTopics([NewTopic(name: "events", partitions: 1)])
            } catch let error as KafkaClientError {
                #expect(error.code == .topicAlreadyExists)
            }
            do {
                _ = try await admin.describeTopics(["missing"])
                Issue.record("describing a missing topic succeeded")
            } catch let error as KafkaClientError {
                #expect(error.code == .unknownTopicOrPartition)
            }

            try await admin.createPartitions(["events": 5])
            #expect(try await admin.describeTopics(["events"])["events"]?.partitionCount == 5)

            let configs = try await admin.describeConfigs(.topic("events"))
            #expect(configs["retention.ms"]?.value == "3600000")
            #expect(configs["retention.ms"]?.isDefault == false)
            #expect(configs["cleanup.policy"]?.value == "compact")
            #expect(configs["segment.bytes"]?.isDefault == true)
            try await admin.incrementalAlterConfigs(.topic("events"), [.set("retention.ms", "60000"), .delete("cleanup.policy")])
            let altered = try await admin.describeConfigs(.topic("events"), names: ["retention.ms", "cleanup.policy"])
            #expect(altered["retention.ms"]?.value == "60000")
            #expect(altered["cleanup.policy"]?.value == "delete")
            #expect(altered.count == 2)
            do {
                try await admin.incrementalAlterConfigs(.topic("events"), [.set("retention.ms", "soon")])
                Issue.record("an invalid config value was accepted")
            } catch let error as KafkaClientError {
                #expect(error.code == .invalidConfig)
            }

            try await admin.deleteTopics(["audit"])
            #expect(try await admin.listTopics() == ["events"])
            let cluster = try await admin.describeCluster()
            #expect(cluster.brokers.count == 1 && cluster.brokers.first?.port == broker.address.port)
            #expect(cluster.controllerId == cluster.brokers.first?.nodeId)
            await admin.close()
        }
    }

    @Test("records: delete before an offset moves the log start; list offsets at both ends and by time")
    func records() async throws {
        try await withEmbeddedBroker { broker in
            let admin = KafkaAdmin(config: ClientConfig(bootstrapServers: [broker.bootstrap]))
            try await admin.createTopics([NewTopic(name: "log", partitions: 1)])
            let producer = try await KafkaProducer.start(config: ProducerConfig(bootstrapServers: [broker.bootstrap]))
            for index in 0..<10 {
                _ = try await producer.send(ProducerRecord(topic: "log", partition: 0, value: [UInt8(index)], timestamp: 1_000 * Int64(index + 1)))
            }
            await producer.close()
            let partition = TopicPartition("log", 0)
            #expect(try await admin.listOffsets([partition], at: .end)[partition] == 10)
            #expect(try await admin.listOffsets([partition], at: .timestamp(4_500))[partition] == 4)
            #expect(try await admin.listOffsets([partition], at: .timestamp(99_000))[partition] == -1)
            #expect(try await admin.deleteRecords(before: [partition: 6])[partition] == 6)
            #expect(try await admin.listOffsets([partition], at: .beginning)[partition] == 6)
            do {
                _ = try await admin.deleteRecords(before: [partition: 50])
                Issue.record("deleting past the high watermark succeeded")
            } catch let error as KafkaClientError {
                #expect(error.code == .offsetOutOfRange)
            }
            await admin.close()
        }
    }

    @Test("groups: list, describe a live member's assignment, read, alter, reset and delete offsets, delete the group")
    func groups() async throws {
        try await withEmbeddedBroker { broker in
            let admin = KafkaAdmin(config: ClientConfig(bootstrapServers: [broker.bootstrap]))
            try await admin.createTopics([NewTopic(name: "jobs", partitions: 2)])
            let producer = try await KafkaProducer.start(config: ProducerConfig(bootstrapServers: [broker.bootstrap]))
            for index in 0..<20 {
                _ = try await producer.send(ProducerRecord(topic: "jobs", partition: Int32(index % 2), value: [UInt8(index)], timestamp: 1_000 * Int64(index + 1)))
            }
            await producer.close()

            var consumerConfig = ConsumerConfig(bootstrapServers: [broker.bootstrap])
            consumerConfig.autoOffsetReset = .earliest
            var groupConfig = GroupConfig(groupId: "workers")
            groupConfig.enableAutoCommit = false
            groupConfig.heartbeatInterval = .milliseconds(200)
            let member = GroupConsumer(consumer: consumerConfig, group: groupConfig)
            member.subscribe(["jobs"])
            var read = 0
            for try await batch in member.batches() {
                read += batch.count
                if read >= 20 { break }
            }
            try await member.commit()
            try await member.commit([TopicPartition("jobs", 1): CommittedOffset(offset: 10, metadata: "checkpoint-b")])
            let asyncOutcome: String = await withCheckedContinuation { continuation in
                member.commitAsync([TopicPartition("jobs", 0): CommittedOffset(offset: 10, metadata: "async")]) { error in
                    continuation.resume(returning: error.map { "\($0)" } ?? "ok")
                }
            }
            #expect(asyncOutcome == "ok")

            #expect(try await admin.listGroups().map(\.groupId) == ["workers"])
            let described = try await admin.describeGroup("workers")
            #expect(described.state == "Stable" && described.protocolType == "consumer" && described.protocolName == "range")
            #expect(described.members.count == 1)
            #expect(Set(described.members.first?.assignment ?? []) == [TopicPartition("jobs", 0), TopicPartition("jobs", 1)])
            let committed = try await admin.listGroupOffsets("workers")
            #expect(committed == [
                TopicPartition("jobs", 0): CommittedOffset(offset: 10, metadata: "async"),
                TopicPartition("jobs", 1): CommittedOffset(offset: 10, metadata: "checkpoint-b"),
            ])
            do {
                try await admin.deleteGroups(["workers"])
                Issue.record("deleting a group with a member succeeded")
            } catch let error as KafkaClientError {
                #expect(error.code == .nonEmptyGroup)
            }
            await member.close()

            try await admin.alterGroupOffsets("workers", [TopicPartition("jobs", 0): CommittedOffset(offset: 3, metadata: "manual")])
            #expect(try await admin.listGroupOffsets("workers", partitions: [TopicPartition("jobs", 0)])[TopicPartition("jobs", 0)] == CommittedOffset(offset: 3, metadata: "manual"))
            let reset = try await admin.resetGroupOffsets("workers", [TopicPartition("jobs", 1)], to: .timestamp(8_000))
            // Partition 1 holds timestamps 2 s, 4 s, 6 s, 8 s…: 8 s is its offset 3.
            #expect(reset == [TopicPartition("jobs", 1): 3])
            #expect(try await admin.listGroupOffsets("workers")[TopicPartition("jobs", 1)]?.offset == 3)
            try await admin.resetGroupOffsets("workers", [TopicPartition("jobs", 1)], to: .beginning)
            #expect(try await admin.listGroupOffsets("workers")[TopicPartition("jobs", 1)]?.offset == 0)
            try await admin.deleteGroupOffsets("workers", [TopicPartition("jobs", 0)])
            #expect(try await admin.listGroupOffsets("workers").keys.sorted { $0.partition < $1.partition } == [TopicPartition("jobs", 1)])
            try await admin.deleteGroups(["workers"])
            #expect(try await admin.listGroups().isEmpty)
            await admin.close()
        }
    }
}
