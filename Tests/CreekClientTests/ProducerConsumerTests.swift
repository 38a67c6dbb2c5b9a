import CreekBroker
@testable import CreekClient
import KafkaProtocol
import Testing

@Suite("Swift client against an embedded broker")
struct ProducerConsumerTests {
    @Test("the embedded broker listens on a free port and stops cleanly")
    func embeddedStartup() async throws {
        try await withEmbeddedBroker { broker in
            // Startup time is a benchmark figure, not a unit-test assertion (CI machines are loaded).
            #expect(broker.address.port != nil && broker.address.port != 0)
        }
    }

    @Test("send returns partition and offset; a consumer reads key, value, headers and timestamp back", arguments: [
        RecordBatch.Compression.none, .gzip, .snappy, .lz4, .zstd,
    ])
    func roundTrip(codec: RecordBatch.Compression) async throws {
        try await withEmbeddedBroker(["num.partitions": "3"]) { broker in
            var config = ProducerConfig(bootstrapServers: [broker.bootstrap])
            config.compression = codec
            let producer = try await KafkaProducer.start(config: config)
            var sent: [RecordMetadata] = []
            for index in 0..<200 {
                let record = ProducerRecord(
                    topic: "orders", key: index % 5 == 0 ? nil : Array("key-\(index % 17)".utf8), value: Array("value-\(index)".utf8),
                    headers: [RecordHeaderValue("i", Array(String(index).utf8)), RecordHeaderValue("null", nil)],
                    timestamp: 1_700_000_000_000 + Int64(index)
                )
                if index % 2 == 0 {
                    sent.append(try await producer.send(record))
                } else {
                    try await producer.sendAsync(record)
                }
            }
            await producer.flush()
            var reports = 0
            for await batch in producer.deliveryReports {
                for report in batch { _ = try report.get() }
                reports += batch.count
                if reports == 100 { break }
            }
            await producer.close()
            #expect(sent.count == 100 && reports == 100)

            let consumer = KafkaConsumer(config: ConsumerConfig(bootstrapServers: [broker.bootstrap]))
            let partitions = (0..<3).map { TopicPartition("orders", Int32($0)) }
            consumer.assign(partitions)
            for partition in partitions { consumer.seek(partition, to: .beginning) }
            var received: [ConsumerRecord] = []
            for try await batch in consumer.batches() {
                received += batch
                if received.count >= 200 { break }
            }
            await consumer.close()
            #expect(received.count == 200)
            for metadata in sent {
                let record = try #require(received.first { $0.partition == metadata.partition && $0.offset == metadata.offset })
                #expect(record.timestamp == metadata.timestamp)
            }
            for record in received {
                let index = Int(String(decoding: record.value ?? [], as: UTF8.self).dropFirst(6)) ?? -1
                #expect(record.timestamp == 1_700_000_000_000 + Int64(index))
                #expect(record.headers == [RecordHeaderValue("i", Array(String(index).utf8)), RecordHeaderValue("null", nil)])
                if index % 5 != 0 {
                    #expect(record.key == Array("key-\(index % 17)".utf8))
                    #expect(record.partition == Partitioner.partition(forKey: Array("key-\(index % 17)".utf8), count: 3))
                } else {
                    #expect(record.key == nil)
                }
            }
            // Order within a partition is send order.
            for partition in 0..<3 {
                let values = received.filter { $0.partition == partition }.map(\.offset)
                #expect(values == values.sorted())
            }
        }
    }

    @Test("murmur2 matches Kafka's reference values")
    func murmur2() {
        // Values from Kafka's UtilsTest (testMurmur2).
        #expect(Partitioner.murmur2(Array("21".utf8)) == -973_932_308)
        #expect(Partitioner.murmur2(Array("foobar".utf8)) == -790_332_482)
        #expect(Partitioner.murmur2(Array("a-little-bit-long-string".utf8)) == -985_981_536)
        #expect(Partitioner.murmur2(Array("a-little-bit-longer-string".utf8)) == -1_486_304_829)
        #expect(Partitioner.murmur2(Array("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8".utf8)) == -58_897_971)
        #expect(Partitioner.murmur2(Array("abc".utf8)) == 479_470_107)
    }

    @Test("seek to end and to a timestamp")
    func seeks() async throws {
        try await withEmbeddedBroker { broker in
            let producer = try await KafkaProducer.start(config: ProducerConfig(bootstrapServers: [broker.bootstrap]))
            for index in 0..<50 {
                _ = try await producer.send(ProducerRecord(topic: "timed", partition: 0, value: [UInt8(index)], timestamp: 1_000 + Int64(index) * 10))
            }
            await producer.close()
            let consumer = KafkaConsumer(config: ConsumerConfig(bootstrapServers: [broker.bootstrap]))
            let partition = TopicPartition("timed", 0)
            consumer.assign([partition])
            consumer.seek(partition, to: .timestamp(1_205))
            var iterator = consumer.batches().makeAsyncIterator()
            let first = try #require(try await iterator.next())
            #expect(first.first?.offset == 21)
            #expect(try await consumer.offsets([partition], at: -1)[partition] == 50)
            #expect(try await consumer.offsets([partition], at: -2)[partition] == 0)
            await consumer.close()
        }
    }

    @Test("rounds fetched ahead never skip or repeat records across seeks, pauses and resumes; position counts only delivered records")
    func prefetchAndSeeks() async throws {
        try await withEmbeddedBroker(["num.partitions": "2"]) { broker in
            let producer = try await KafkaProducer.start(config: ProducerConfig(bootstrapServers: [broker.bootstrap]))
            for index in 0..<400 {
                try await producer.sendAsync(ProducerRecord(topic: "ahead", partition: Int32(index % 2), value: Array(String(index).utf8)))
            }
            await producer.flush()
            await producer.close()
            var config = ConsumerConfig(bootstrapServers: [broker.bootstrap])
            config.maxPartitionFetchBytes = 512 // a few records per partition per round: many rounds
            config.fetchMaxWait = .milliseconds(20)
            let consumer = KafkaConsumer(config: config)
            let (p0, p1) = (TopicPartition("ahead", 0), TopicPartition("ahead", 1))
            consumer.assign([p0, p1])
            consumer.seek(p0, to: .beginning)
            consumer.seek(p1, to: .beginning)
            var seen: [TopicPartition: [Int64]] = [:]
            func poll() async throws {
                for record in try await consumer.poll() { seen[TopicPartition(record.topic, record.partition), default: []].append(record.offset) }
                // The position is exactly one past the last delivered record.
                for partition in [p0, p1] {
                    if let last = seen[partition]?.last { #expect(consumer.position(partition) == last + 1) }
                }
            }
            try await poll()
            try await poll()
            // Back to 5 on p0 while rounds are queued: the next records of p0 start there.
            consumer.seek(p0, to: .offset(5))
            seen[p0] = []
            try await poll()
            #expect(seen[p0]?.first.map { $0 == 5 } ?? true)
            consumer.pause([p1])
            let pausedAt = consumer.position(p1)
            let p1Before = seen[p1]?.count ?? 0
            for _ in 0..<5 { try await poll() }
            #expect(seen[p1]?.count == p1Before && consumer.position(p1) == pausedAt)
            consumer.resume([p1])
            for _ in 0..<400 where (seen[p0]?.last ?? 0) < 199 || (seen[p1]?.last ?? 0) < 199 { try await poll() }
            #expect(seen[p0] == Array(5...199))
            #expect(seen[p1] == Array(0...199))
            await consumer.close()
        }
    }

    @Test("after a batch fails for good, the idempotent producer bumps its epoch and the partition keeps accepting records")
    func epochBumpAfterFailedBatch() async throws {
        try await withEmbeddedBroker { broker in
            let admin = KafkaAdmin(config: ClientConfig(bootstrapServers: [broker.bootstrap]))
            try await admin.createTopics([NewTopic(name: "small", partitions: 1, configs: ["max.message.bytes": "2000"])])
            await admin.close()
            var config = ProducerConfig(bootstrapServers: [broker.bootstrap])
            config.linger = .zero
            let producer = try await KafkaProducer.start(config: config)
            let first = try await producer.send(ProducerRecord(topic: "small", partition: 0, value: Array(repeating: 1, count: 10)))
            do {
                _ = try await producer.send(ProducerRecord(topic: "small", partition: 0, value: Array(repeating: 2, count: 5_000)))
                Issue.record("an oversized record was accepted")
            } catch let error as KafkaClientError {
                #expect(error.code == .messageTooLarge)
            }
            let after = try await producer.send(ProducerRecord(topic: "small", partition: 0, value: Array(repeating: 3, count: 10)))
            #expect(first.offset == 0 && after.offset == 1)
            await producer.close()
        }
    }
}
