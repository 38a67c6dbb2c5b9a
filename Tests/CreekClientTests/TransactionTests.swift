import CreekBroker
@testable import CreekClient
import KafkaProtocol
import Testing

@Suite("Swift transactional producer against an embedded broker")
struct TransactionTests {
    static func read(_ bootstrap: String, _ topic: String, partitions: Int, isolation: ConsumerConfig.IsolationLevel) async throws -> [String] {
        var config = ConsumerConfig(bootstrapServers: [bootstrap])
        config.isolationLevel = isolation
        config.fetchMaxWait = .milliseconds(50)
        let consumer = KafkaConsumer(config: config)
        let assigned = (0..<partitions).map { TopicPartition(topic, Int32($0)) }
        consumer.assign(assigned)
        for partition in assigned { consumer.seek(partition, to: .beginning) }
        let ends = try await consumer.offsets(assigned, at: -1)
        var values: [String] = []
        for _ in 0..<200 {
            values += try await consumer.poll().map { String(decoding: $0.value ?? [], as: UTF8.self) }
            if assigned.allSatisfy({ (consumer.position($0) ?? 0) >= (ends[$0] ?? 0) }) { break }
        }
        await consumer.close()
        return values.sorted()
    }

    static func transactional(_ bootstrap: String, id: String) async throws -> KafkaProducer {
        var config = ProducerConfig(bootstrapServers: [bootstrap])
        config.transactionalId = id
        return try await KafkaProducer.start(config: config)
    }

    @Test("committed records are read by read_committed consumers, aborted ones only by read_uncommitted")
    func commitAndAbort() async throws {
        try await withEmbeddedBroker(["num.partitions": "2"]) { broker in
            let producer = try await Self.transactional(broker.bootstrap, id: "tx-a")
            await #expect(throws: KafkaClientError.self) { _ = try await producer.send(ProducerRecord(topic: "t", value: Array("outside".utf8))) }
            try producer.beginTransaction()
            for index in 0..<10 { try await producer.sendAsync(ProducerRecord(topic: "t", key: Array("k\(index)".utf8), value: Array("kept-\(index)".utf8))) }
            try await producer.commitTransaction()
            try producer.beginTransaction()
            for index in 0..<10 { try await producer.sendAsync(ProducerRecord(topic: "t", key: Array("k\(index)".utf8), value: Array("dropped-\(index)".utf8))) }
            try await producer.abortTransaction()
            try producer.beginTransaction()
            _ = try await producer.send(ProducerRecord(topic: "t", partition: 0, value: Array("last".utf8)))
            try await producer.commitTransaction()
            await producer.close()

            let committed = try await Self.read(broker.bootstrap, "t", partitions: 2, isolation: .readCommitted)
            #expect(committed == ((0..<10).map { "kept-\($0)" } + ["last"]).sorted())
            let everything = try await Self.read(broker.bootstrap, "t", partitions: 2, isolation: .readUncommitted)
            #expect(everything.count == 21 && everything.filter { $0.hasPrefix("dropped-") }.count == 10)
        }
    }

    @Test("consume-transform-produce: output and consumed offsets commit together, or neither does")
    func consumeTransformProduce() async throws {
        try await withEmbeddedBroker(["num.partitions": "1"]) { broker in
            let plain = try await KafkaProducer.start(config: ProducerConfig(bootstrapServers: [broker.bootstrap]))
            for index in 0..<6 { _ = try await plain.send(ProducerRecord(topic: "in", value: Array("n\(index)".utf8))) }
            await plain.close()

            var consumerConfig = ConsumerConfig(bootstrapServers: [broker.bootstrap])
            consumerConfig.autoOffsetReset = .earliest
            consumerConfig.isolationLevel = .readCommitted
            var groupConfig = GroupConfig(groupId: "transformers")
            groupConfig.enableAutoCommit = false
            let member = GroupConsumer(consumer: consumerConfig, group: groupConfig)
            member.subscribe(["in"])
            let producer = try await Self.transactional(broker.bootstrap, id: "tx-transform")
            var iterator = member.batches().makeAsyncIterator()
            var seen = 0
            var round = 0
            while seen < 6, let batch = try await iterator.next() {
                try producer.beginTransaction()
                for record in batch { try await producer.sendAsync(ProducerRecord(topic: "out", value: Array("upper-\(String(decoding: record.value ?? [], as: UTF8.self))".utf8))) }
                let next = Dictionary(batch.map { (TopicPartition($0.topic, $0.partition), $0.offset + 1) }) { max($0, $1) }
                try await producer.sendOffsetsToTransaction(next, group: member.groupMetadata)
                // The first round is aborted: its output and its offsets must both vanish.
                if round == 0 {
                    try await producer.abortTransaction()
                    for (partition, _) in next { member.seek(partition, to: .offset(0)) }
                } else {
                    try await producer.commitTransaction()
                    seen += batch.count
                }
                round += 1
            }
            await producer.close()
            let admin = KafkaAdmin(config: ClientConfig(bootstrapServers: [broker.bootstrap]))
            #expect(try await admin.listGroupOffsets("transformers")[TopicPartition("in", 0)]?.offset == 6)
            await admin.close()
            await member.close()
            let output = try await Self.read(broker.bootstrap, "out", partitions: 1, isolation: .readCommitted)
            #expect(output == (0..<6).map { "upper-n\($0)" }.sorted())
        }
    }

    @Test("a second producer with the same transactional id fences the first")
    func fencing() async throws {
        try await withEmbeddedBroker(["num.partitions": "1"]) { broker in
            let first = try await Self.transactional(broker.bootstrap, id: "tx-zombie")
            try first.beginTransaction()
            _ = try await first.send(ProducerRecord(topic: "f", value: Array("zombie".utf8)))
            let second = try await Self.transactional(broker.bootstrap, id: "tx-zombie")
            do {
                try await first.commitTransaction()
                Issue.record("the fenced producer committed")
            } catch let error as KafkaClientError {
                #expect(error.code == .producerFenced || error.code == .invalidProducerEpoch)
            }
            try second.beginTransaction()
            _ = try await second.send(ProducerRecord(topic: "f", value: Array("fresh".utf8)))
            try await second.commitTransaction()
            await first.close()
            await second.close()
            #expect(try await Self.read(broker.bootstrap, "f", partitions: 1, isolation: .readCommitted) == ["fresh"])
        }
    }
}
