import CreekBroker
@testable import CreekClient
import KafkaProtocol
import NIOConcurrencyHelpers
import Testing

@Suite("Swift group consumer against an embedded broker")
struct GroupConsumerTests {
    @Test("range and round-robin assign every partition once, as Kafka's assignors do")
    func assignors() {
        let subscriptions = ["m1": ["a", "b"], "m2": ["a"], "m3": ["a", "b"]]
        let counts = ["a": 5, "b": 2]
        let range = Assignor.range.assign(subscriptions, partitionCounts: counts)
        #expect(range["m1"] == [TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)])
        #expect(range["m2"] == [TopicPartition("a", 2), TopicPartition("a", 3)])
        #expect(range["m3"] == [TopicPartition("a", 4), TopicPartition("b", 1)])
        for assignor in Assignor.allCases {
            let plan = assignor.assign(subscriptions, partitionCounts: counts)
            let all = plan.values.flatMap { $0 }
            #expect(all.count == 7 && Set(all).count == 7, "\(assignor)")
            #expect(!(plan["m2"] ?? []).contains { $0.topic == "b" }, "\(assignor): m2 is not subscribed to b")
        }
    }

    @Test("five members joining, leaving and crashing while records flow: each record processed exactly once with manual commits")
    func membersComeAndGo() async throws {
        try await withEmbeddedBroker(["num.partitions": "6", "group.min.session.timeout.ms": "1000"]) { broker in
            let total = 3_000
            let processed = NIOLockedValueBox<[Int]>([])
            let stopping = NIOLockedValueBox<Set<Int>>([])
            let producer = try await KafkaProducer.start(config: ProducerConfig(bootstrapServers: [broker.bootstrap]))
            _ = try await producer.send(ProducerRecord(topic: "work", key: Array("warm".utf8), value: Array("-1".utf8)))

            func member(_ name: String) -> GroupConsumer {
                var consumer = ConsumerConfig(bootstrapServers: [broker.bootstrap])
                consumer.autoOffsetReset = .earliest
                var group = GroupConfig(groupId: "workers")
                group.enableAutoCommit = false
                group.sessionTimeout = .seconds(2)
                group.heartbeatInterval = .milliseconds(300)
                return GroupConsumer(consumer: consumer, group: group)
            }
            func run(_ consumer: GroupConsumer, _ number: Int) -> Task<Void, any Error> {
                consumer.subscribe(["work"])
                return Task {
                    for try await batch in consumer.batches() {
                        // A member told to stop processes nothing more: what it fetched
                        // but did not commit goes to the next owner.
                        if stopping.withLockedValue({ $0.contains(number) }) { break }
                        let values = batch.compactMap { Int(String(decoding: $0.value ?? [], as: UTF8.self)) }.filter { $0 >= 0 }
                        processed.withLockedValue { $0 += values }
                        try await consumer.commit()
                    }
                }
            }
            var members = (0..<3).map { member("m\($0)") }
            var tasks = members.enumerated().map { run($0.element, $0.offset) }
            let sending = Task {
                for index in 0..<total {
                    try await producer.sendAsync(ProducerRecord(topic: "work", key: Array("k\(index)".utf8), value: Array(String(index).utf8)))
                    if index % 100 == 99 { try await Task.sleep(for: .milliseconds(20)) }
                }
                await producer.flush()
            }
            func waitFor(_ count: Int) async throws {
                let deadline = ContinuousClock.now + .seconds(60)
                while processed.withLockedValue({ Set($0).count }) < count && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            try await waitFor(500)
            for name in ["m3", "m4"] {
                let joining = member(name)
                members.append(joining)
                tasks.append(run(joining, tasks.count))
            }
            try await waitFor(1_500)
            func stop(_ number: Int) async {
                stopping.withLockedValue { _ = $0.insert(number) }
                tasks[number].cancel()
                _ = await tasks[number].result
            }
            await stop(1)
            await members[1].close()
            try await waitFor(2_000)
            await stop(2)
            await members[2].abandon()
            try await sending.value
            try await waitFor(total)
            for index in tasks.indices where index != 1 && index != 2 {
                await stop(index)
                await members[index].close()
            }
            await producer.close()
            let values = processed.withLockedValue { $0 }
            #expect(Set(values).count == total, "every record processed")
            #expect(values.count == total, "none twice (\(values.count - Set(values).count) duplicates)")
        }
    }
}
